package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E22: simple long convolutions (Fu, Epstein, Nguyen, Thomas, Zhang, Dao, Rudra, Ré 2023, "Simple
 * Hardware-Efficient Long Convolutions for Sequence Modeling", ICML), a token mixer: each channel
 * convolved causally with a kernel learned directly, one weight per tap, kept smooth by the
 * paper's two regularisers applied to the kernel in the forward pass.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, K kernel length (taps past T are never reached).
 *
 *   Smooth:  K̄[c, j] = (1 / (2p + 1)) Σ_{i = j−p}^{j+p} K[c, i]      (average pooling, K[c, i] = 0 outside [0, K))
 *   Squash:  K̃ = sign(K̄) ⊙ max(|K̄| − λ, 0)                           (soft threshold: sparse, small kernels)
 *   y_t = Σ_{j = 0}^{min(t, K − 1)} K̃[:, j] ⊙ x_{t−j} + D ⊙ x_t         (B, T, C), by FFT (Tensor.causalConv)
 * </pre>
 *
 * Parameters: {@code filter} (C, K), N(0, 1/K); {@code D} (C), ones (the skip term of the SSM
 * layers the paper's convolution replaces).
 *
 * <p><b>Reference.</b> flash-linear-attention's {@code LongConvolution} with {@code fft_conv} is
 * this with p = 0, λ = 0 and D = 1: it omits both regularisers; Tessera follows the paper (set
 * {@code smooth=0 lambda=0} for fla's layer, as the golden test does). fla pads the FFT to 2T only,
 * so a filter longer than T + 1 would wrap future inputs into y_t; Tessera pads to the next power
 * of two ≥ T + min(K, T) − 1 and reads only the first T taps, which is causal for any K.
 *
 * <p><b>Decoding.</b> A learned kernel has no recurrent form, so the {@link MixerState} holds the
 * last min(K, t) inputs (B, ·, C) and each new token costs O(min(K, t)·C): bounded by K, not O(1)
 * (FlashButterfly's speed-ups are for training, not decoding). Packed documents restart the
 * convolution at their first token.
 */
public final class LongConv extends Module implements TokenMixer {

    /**
     * @param length K, the kernel length (taps); sequences longer than K see only the last K inputs
     * @param lambda λ ≥ 0, the squash threshold
     * @param smooth p ≥ 0, the smoothing half-width (pooling window 2p + 1; 0 turns smoothing off)
     */
    public record Options(int length, double lambda, int smooth) {
        public Options {
            if (length < 1 || !(lambda >= 0) || smooth < 0) {
                throw new IllegalArgumentException("mixer long_conv: need length >= 1, lambda >= 0 and smooth >= 0, got length=" + length
                        + " lambda=" + lambda + " smooth=" + smooth);
            }
        }
    }

    private final int c;
    private final Options o;
    private final DType dtype;
    private final Variable filter;
    private final Variable d;

    /** A long convolution over width {@code dim}, filter N(0, 1/K) from {@code g}, D = 1. */
    public LongConv(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer long_conv: width must be positive, got " + dim);
        }
        this.c = dim;
        this.o = o;
        this.dtype = dtype;
        filter = parameter("filter", Tensor.randn(g, dtype, dim, o.length()).mul(1 / Math.sqrt(o.length())));
        d = parameter("D", Tensor.ones(dtype, dim));
    }

    /** The regularised kernel K̃ (C, K): smoothed, then squashed. */
    public Variable kernel() {
        Variable k = filter;
        int p = o.smooth();
        if (p > 0) {
            int len = o.length();
            Variable zeros = OnDevice.zeros(k, c, p);
            Variable padded = Variable.cat(1, zeros, k, zeros); // (C, K + 2p)
            Variable sum = padded.narrow(1, 0, len);
            for (int s = 1; s <= 2 * p; s++) {
                sum = sum.add(padded.narrow(1, s, len));
            }
            k = sum.div(2.0 * p + 1);
        }
        return o.lambda() > 0 ? k.sub(k.clamp(-o.lambda(), o.lambda())) : k; // sign(k) max(|k| − λ, 0)
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        return CausalLongConv.mix("mixer long_conv", x, mask, state, kernel(), d);
    }

    @Override
    public String toString() {
        return "LongConv(C=" + c + ", K=" + o.length() + ", lambda=" + o.lambda() + ", smooth=" + o.smooth() + ", " + dtype + ")";
    }
}
