package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E21: SGConv, the structured global convolution (Li, Cai, Zhang, Chen, Dey 2022, "What Makes
 * Convolutional Models Great on Long Sequence Modeling?", ICLR 2023), a token mixer: a causal
 * global convolution whose kernel is built from a few short sub-kernels, each upsampled to twice
 * the span of the previous one and damped by a power of α, so the parameter count grows with
 * log L and the kernel decays with distance (the paper's two principles).
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, d sub-kernel size, S = 1 + ⌈log₂(L / d)⌉ scales.
 *
 *   K = (1/Z) · concat_{i = 0}^{S−1} ( α^i · Up_{2^max(i−1, 0)}(w_i) )[0, L)        (C, L)
 *       w_i (C, d) learned; Up_r linear interpolation to r·d points (PyTorch's
 *       interpolate(mode='linear', align_corners=False)); Z (C) the L2 norm of each channel's K at
 *       initialisation, kept fixed (the reference code's kernel_norm)
 *   y_t = Σ_{j = 0}^{min(t, L − 1)} K[:, j] ⊙ x_{t−j} + D ⊙ x_t                      (B, T, C), by FFT
 * </pre>
 *
 * Parameters: {@code kernel_0} … {@code kernel_<S−1>} (C, d), N(0, 1); {@code D} (C), ones.
 * Buffer: {@code kernel_norm} (C, 1), Z. The paper's causal language-model setting is the one
 * here; its bidirectional variant (a second kernel for the reversed sequence) is not implemented.
 *
 * <p><b>Decoding.</b> The kernel has no recurrent form, so the {@link MixerState} holds the last
 * min(L, t) inputs and a token costs O(min(L, t)·C): bounded by L, not O(1). Packed documents
 * restart the convolution at their first token. No reference runs on CPU (REFERENCES.md: paper
 * only), so there is no golden fixture.
 */
public final class SgConv extends Module implements TokenMixer {

    /**
     * @param length L, the kernel length
     * @param size d, each sub-kernel's parameters per channel
     * @param alpha α in (0, 1], the decay per scale
     */
    public record Options(int length, int size, double alpha) {
        public Options {
            if (length < 1 || size < 1 || !(alpha > 0 && alpha <= 1)) {
                throw new IllegalArgumentException("mixer sgconv: need length >= 1, size >= 1 and 0 < alpha <= 1, got length=" + length
                        + " size=" + size + " alpha=" + alpha);
            }
        }
    }

    private final int c;
    private final Options o;
    private final DType dtype;
    private final Variable[] kernels;
    private final Tensor[] upsample; // (r·d, d) per scale, null for r = 1
    private final Variable d;

    public SgConv(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer sgconv: width must be positive, got " + dim);
        }
        this.c = dim;
        this.o = o;
        this.dtype = dtype;
        int scales = scales(o.length(), o.size());
        kernels = new Variable[scales];
        upsample = new Tensor[scales];
        for (int i = 0; i < scales; i++) {
            kernels[i] = parameter("kernel_" + i, Tensor.randn(g, dtype, dim, o.size()));
            int r = 1 << Math.max(i - 1, 0);
            upsample[i] = r == 1 ? null : interpolation(o.size(), r).to(dtype);
        }
        d = parameter("D", Tensor.ones(dtype, dim));
        buffer("kernel_norm", Tensor.ones(dtype, dim, 1), true);
        setBuffer("kernel_norm", unnormalised().data().square().sum(true, 1).sqrt());
    }

    /** S = 1 + ⌈log₂(L / d)⌉ scales (1 when L ≤ d): enough that the concatenation reaches L. */
    static int scales(int length, int size) {
        int s = 1;
        long span = size;
        while (span < length) {
            span *= 2; // scales 0 and 1 both span d; from then on each doubles the total
            s++;
        }
        return s;
    }

    /** (r·n, n): row j interpolates linearly at source position (j + 0.5)/r − 0.5, clamped to [0, n − 1]. */
    static Tensor interpolation(int n, int r) {
        double[] m = new double[r * n * n];
        for (int j = 0; j < r * n; j++) {
            double src = Math.max((j + 0.5) / r - 0.5, 0);
            int lo = Math.min((int) Math.floor(src), n - 1);
            int hi = Math.min(lo + 1, n - 1);
            double frac = src - lo;
            m[j * n + lo] += 1 - frac;
            m[j * n + hi] += frac;
        }
        return Tensor.of(m, r * n, n);
    }

    private Variable unnormalised() {
        Variable[] parts = new Variable[kernels.length];
        double scale = 1;
        for (int i = 0; i < kernels.length; i++) {
            Variable w = upsample[i] == null ? kernels[i] : kernels[i].matmul(OnDevice.constant(upsample[i], kernels[i]).mT()); // (C, r·d)
            parts[i] = i == 0 ? w : w.mul(scale);
            scale *= o.alpha();
        }
        Variable k = parts.length == 1 ? parts[0] : Variable.cat(1, parts);
        return k.narrow(1, 0, Math.min(o.length(), k.size(1))); // (C, L)
    }

    /** The kernel K (C, L). */
    public Variable kernel() {
        return unnormalised().div(Variable.constant(getBuffer("kernel_norm")));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        return CausalLongConv.mix("mixer sgconv", x, mask, state, kernel(), d);
    }

    @Override
    public String toString() {
        return "SgConv(C=" + c + ", L=" + o.length() + ", d=" + o.size() + ", alpha=" + o.alpha() + ", " + dtype + ")";
    }
}
