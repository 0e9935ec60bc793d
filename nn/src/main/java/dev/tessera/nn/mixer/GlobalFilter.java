package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E8 (global filter part): the Global Filter Network's token mixer (Rao, Zhao, Zhu, Lu, Zhou 2021,
 * "Global Filter Networks for Image Classification", NeurIPS): a learnable complex filter applied
 * to every frequency of the sequence, i.e. a circular convolution over the whole sequence with a
 * learned per-channel kernel, in O(n log n). Bidirectional only (every position reads every other);
 * the causal decoders refuse it.
 *
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, n/2+1 frequencies.
 *
 *   X̂ = rFFT_n(x)                                  (B, n/2+1, C) complex, x zero-padded to n
 *   X̃ = rFFT⁻¹_n(K ⊙ X̂)[:T]                        K (n/2+1, C) complex, {@code complex_weight} (…, 2): real, imaginary
 * </pre>
 *
 * The paper filters 2-D feature maps of a fixed size (rfft2 over height and width); on a sequence
 * the transform is the 1-D one over time. Its filter is fixed to the training resolution; here a
 * sequence (or a packed document, or a padding run: {@link Segments}, each filtered alone) shorter
 * than n is zero-padded to n before the transform and cut back after, so the filter is the same
 * whatever T. Initialised as the paper's code: K entries N(0, 0.02²).
 */
public final class GlobalFilter extends Module implements TokenMixer {

    /** @param length n, the transform length (the longest sequence) */
    public record Options(int length) {
        public Options {
            if (length < 1) {
                throw new IllegalArgumentException("mixer global_filter: need length >= 1, got " + length);
            }
        }
    }

    private final String who = "mixer global_filter";
    private final int dim;
    private final int n;
    private final Variable weight;

    /** A global filter over width {@code dim}, initialised from {@code g}. */
    public GlobalFilter(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.n = o.length();
        weight = parameter("complex_weight", Tensor.randn(g, dtype, n / 2 + 1, dim, 2).mul(0.02));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, false, x, dim, mask, state);
        Directions.fits(who, s.longest(), n);
        return s.eachRun(x, this::filter); // (B, T, C), each packed document / padding run alone
    }

    /** rFFT⁻¹(K ⊙ rFFT(x padded to n)) cut to x's length, x (B, L, C). */
    private Variable filter(Variable x) {
        int l = x.size(1);
        Variable padded = l == n ? x : Variable.cat(1, x, Variable.constant(Tensor.zeros(x.dtype(), x.size(0), n - l, dim)));
        Variable spectrum = padded.rfft(1); // (B, n/2+1, C, 2)
        Variable re = spectrum.narrow(3, 0, 1);
        Variable im = spectrum.narrow(3, 1, 1);
        Variable kRe = weight.narrow(2, 0, 1);
        Variable kIm = weight.narrow(2, 1, 1);
        Variable product = Variable.cat(3, re.mul(kRe).sub(im.mul(kIm)), re.mul(kIm).add(im.mul(kRe))); // (B, n/2+1, C, 2)
        return product.irfft(n, 1).narrow(1, 0, l); // (B, L, C)
    }

    @Override
    public String toString() {
        return "GlobalFilter(C=" + dim + ", n=" + n + ")";
    }
}
