package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E8: frequency-domain token mixing, bidirectional only (every position reads every other; the
 * causal decoders refuse it), in two forms over the sequence's real FFT.
 *
 * <p>{@code mode=filter}: the Global Filter Network (Rao, Zhao, Zhu, Lu, Zhou 2021, "Global Filter
 * Networks for Image Classification", NeurIPS): a learnable complex filter on every frequency, i.e.
 * a circular convolution with a learned per-channel kernel, in O(n log n). Initialised as the
 * paper's code: K entries N(0, 0.02²).
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, n/2+1 frequencies f, nb blocks of bs = C/nb.
 *
 *   X̂ = rFFT_n(x)                                  (B, n/2+1, C) complex, x zero-padded to n
 *   y = rFFT⁻¹_n(K ⊙ X̂)[:T]                        K (n/2+1, C) complex, {@code complex_weight} (…, 2): real, imaginary
 * </pre>
 *
 * <p>{@code mode=afno}: the Adaptive Fourier Neural Operator (Guibas, Mardani, Li, Tao, Anandkumar,
 * Catanzaro 2022, "Adaptive Fourier Neural Operators: Efficient Token Mixers for Transformers",
 * ICLR): the filter becomes a complex two-layer MLP shared by all frequencies, block-diagonal over
 * nb channel blocks, with ReLU on the real and imaginary parts and a soft-shrink (λ, the option
 * shrink) that sparsifies the spectrum.
 * <pre>
 *   h_f = ReLU(W₁ X̂_f + b₁),  o_f = S_λ(W₂ h_f + b₂)      W₁, W₂ (nb, bs, bs) complex, per block; ReLU, S_λ per real/imag part
 *   y = rFFT⁻¹_n(o)[:T]                                   S_λ(v) = sign(v)·max(|v| − λ, 0)
 * </pre>
 * Parameters are the paper's code's ({@code w1}, {@code b1}, {@code w2}, {@code b2}, real and
 * imaginary stacked first; init 0.02·N(0, 1)); its hidden-size factor is 1 and its mode truncation
 * keeps all modes; its layer also adds its input back, which here is the model's residual.
 *
 * <p>Both papers filter 2-D feature maps of a fixed size (rfft2); on a sequence the transform is
 * the 1-D one over time. A sequence (or a packed document, or a padding run: {@link Segments},
 * each transformed alone) shorter than n is zero-padded to n before the transform and cut back
 * after, so the weights mean the same whatever T.
 */
public final class GlobalFilter extends Module implements TokenMixer {

    /** The two forms. */
    public enum Mode { FILTER, AFNO }

    /**
     * @param length n, the transform length (the longest sequence)
     * @param mode filter (GFNet) or afno
     * @param blocks nb, AFNO's channel blocks (must divide C)
     * @param shrink λ, AFNO's soft-shrink threshold (≥ 0)
     */
    public record Options(int length, Mode mode, int blocks, double shrink) {
        public Options {
            if (length < 1 || mode == null || blocks < 1 || !(shrink >= 0)) {
                throw new IllegalArgumentException("mixer global_filter: need length >= 1, a mode, blocks >= 1 and shrink >= 0, got length="
                        + length + " mode=" + mode + " blocks=" + blocks + " shrink=" + shrink);
            }
        }
    }

    private final String who = "mixer global_filter";
    private final int dim;
    private final int n;
    private final Options o;
    private final Variable weight;
    private final Variable w1;
    private final Variable b1;
    private final Variable w2;
    private final Variable b2;

    /** A global filter over width {@code dim}, initialised from {@code g}. */
    public GlobalFilter(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.n = o.length();
        this.o = o;
        if (o.mode() == Mode.FILTER) {
            weight = parameter("complex_weight", Tensor.randn(g, dtype, n / 2 + 1, dim, 2).mul(0.02));
            w1 = b1 = w2 = b2 = null;
        } else {
            if (dim % o.blocks() != 0) {
                throw new IllegalArgumentException(who + ": " + o.blocks() + " blocks do not divide the width " + dim);
            }
            int bs = dim / o.blocks();
            weight = null;
            w1 = parameter("w1", Tensor.randn(g, dtype, 2, o.blocks(), bs, bs).mul(0.02));
            b1 = parameter("b1", Tensor.randn(g, dtype, 2, o.blocks(), bs).mul(0.02));
            w2 = parameter("w2", Tensor.randn(g, dtype, 2, o.blocks(), bs, bs).mul(0.02));
            b2 = parameter("b2", Tensor.randn(g, dtype, 2, o.blocks(), bs).mul(0.02));
        }
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
        Variable padded = l == n ? x : Variable.cat(1, x, OnDevice.zeros(x, x.size(0), n - l, dim));
        Variable spectrum = padded.rfft(1); // (B, n/2+1, C, 2)
        Variable re = spectrum.narrow(3, 0, 1);
        Variable im = spectrum.narrow(3, 1, 1);
        Variable product;
        if (o.mode() == Mode.FILTER) {
            Variable kRe = weight.narrow(2, 0, 1);
            Variable kIm = weight.narrow(2, 1, 1);
            product = Variable.cat(3, re.mul(kRe).sub(im.mul(kIm)), re.mul(kIm).add(im.mul(kRe))); // (B, n/2+1, C, 2)
        } else {
            Variable[] h = blockLinear(re, im, w1, b1);
            Variable[] out = blockLinear(h[0].relu(), h[1].relu(), w2, b2);
            product = Variable.cat(3, shrink(out[0]), shrink(out[1])); // (B, n/2+1, C, 2)
        }
        return product.irfft(n, 1).narrow(1, 0, l); // (B, L, C)
    }

    /** AFNO's block-diagonal complex linear map W v + b on v = re + i·im, each (B, F, C, 1): {real, imaginary} (B, F, C, 1). */
    private Variable[] blockLinear(Variable re, Variable im, Variable w, Variable b) {
        int nb = o.blocks();
        int bs = dim / nb;
        int bt = re.size(0);
        int f = re.size(1);
        Variable r = re.reshape(bt, f, nb, 1, bs); // (B, F, nb, 1, bs): row vectors per block
        Variable i = im.reshape(bt, f, nb, 1, bs);
        Variable wr = w.select(0, 0); // (nb, bs, bs)
        Variable wi = w.select(0, 1);
        Variable outRe = r.matmul(wr).sub(i.matmul(wi)).reshape(bt, f, nb, bs).add(b.select(0, 0)).reshape(bt, f, dim, 1);
        Variable outIm = r.matmul(wi).add(i.matmul(wr)).reshape(bt, f, nb, bs).add(b.select(0, 1)).reshape(bt, f, dim, 1);
        return new Variable[] {outRe, outIm};
    }

    /** S_λ(v) = ReLU(v − λ) − ReLU(−v − λ). */
    private Variable shrink(Variable v) {
        double l = o.shrink();
        return l == 0 ? v : v.sub(l).relu().sub(v.neg().sub(l).relu());
    }

    @Override
    public String toString() {
        return "GlobalFilter(C=" + dim + ", n=" + n + ", " + o.mode().name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
}
