package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E24: continuous kernel convolutions, CKConv (Romero, Kuzina, Bekkers, Tomczak, Hoogendoorn 2022,
 * "CKConv: Continuous Kernel Convolution For Sequential Data", ICLR) with FlexConv's learnable
 * Gaussian mask (Romero, Bruintjes, Tomczak, Bekkers, Hoogendoorn, van Gemert 2022, "FlexConv:
 * Continuous Kernel Convolutions with Differentiable Kernel Sizes", ICLR), a token mixer in the
 * depthwise-separable form of their CCNN follow-up: the kernel is not a table of taps but a small
 * SIREN MLP of the relative position, so one set of weights defines a kernel of any length.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, L the kernel length (option length), H the MLP width.
 *
 *   Δ_j = j / (L − 1)                                  the lag j ∈ [0, L) as a relative position in [0, 1]
 *   K[:, j] = W₃ sin(ω₀ (W₂ sin(ω₀ (W₁ Δ_j + b₁)) + b₂)) + b₃            (C, L)  MLP_ψ (SIREN)
 *   FlexConv:  K[:, j] ← K[:, j] · exp(−½ ((Δ_j − μ) / σ)²)            learnable μ, σ (a Gaussian mask)
 *              K[:, j] ← 0 where that mask is below τ (cropping: K is evaluated only on the mask's support)
 *   y_t = W_p (Σ_{j = 0}^{min(t, L − 1)} K[:, j] ⊙ x_{t−j}) + b_p        (B, T, C), by FFT, then pointwise
 * </pre>
 *
 * Parameters: {@code kernel.l1.*} (H, 1), {@code kernel.l2.*} (H, H), {@code kernel.l3.*} (C, H),
 * SIREN init (W₁ ~ U(±1), W₂, W₃ ~ U(±√(6/H)/ω₀)); {@code mask.mu}, {@code mask.sigma} (scalars,
 * 0 and 0.5; only with the mask); {@code pointwise.*} (C, C). Causal: the kernel reads lags ≥ 0 only.
 *
 * <p><b>Cropping</b> (FlexConv §3, "dynamic cropping" with threshold τ = 0.1): the mask is ≥ τ only where
 * |Δ − μ| ≤ |σ|·√(−2 ln τ), so the kernel is evaluated at those lags alone and ends at the last of them:
 * a narrow mask gives a short kernel L' ≤ L, a cheap convolution and a short decoding window. Lags before
 * the support (μ &gt; 0) are zero taps. The dropped taps are the MLP's times a mask below τ, so the output
 * moves by at most Σ_c |W_p[c', c]| Σ_{dropped j} τ·|MLP_c(Δ_j)|·|x_{t−j, c}| (CkConvTest); τ = 0 keeps
 * all L. FlexConv's reference crops only the far end of its mask, which it centres on lag 0; ours has a
 * learnable centre, so both ends are cropped. The CCNN network built of these layers is
 * {@link dev.tessera.nn.block.Ccnn}. <b>Decoding</b> holds the last min(L', t) inputs and evaluates the MLP
 * at those lags: a token costs O(min(L', t)·(C + H²)), bounded by L', not O(1). Packed documents restart
 * the convolution at their first token. Paper only (REFERENCES.md): no golden fixture.
 */
public final class CkConv extends Module implements TokenMixer {

    /**
     * @param length L, the kernel length; relative positions are normalised by L − 1
     * @param hidden H, the kernel MLP's width
     * @param omega ω₀ &gt; 0, the sine frequency (SIREN)
     * @param mask FlexConv's learnable Gaussian mask (true) or plain CKConv (false)
     * @param threshold τ, FlexConv's cropping: with the mask, the kernel is evaluated and applied only at the lags where the
     *     mask is ≥ τ (FlexConv's 0.1); 0 keeps all L taps
     */
    public record Options(int length, int hidden, double omega, boolean mask, double threshold) {
        public Options {
            if (length < 1 || hidden < 1 || !(omega > 0)) {
                throw new IllegalArgumentException("mixer ckconv: need length >= 1, hidden >= 1 and omega > 0, got length=" + length + " hidden="
                        + hidden + " omega=" + omega);
            }
            if (!(threshold >= 0 && threshold < 1)) {
                throw new IllegalArgumentException("mixer ckconv: threshold must be in [0, 1) (0: no cropping), got " + threshold);
            }
        }

        /** With FlexConv's cropping threshold 0.1. */
        public Options(int length, int hidden, double omega, boolean mask) {
            this(length, hidden, omega, mask, 0.1);
        }
    }

    private final int c;
    private final Options o;
    private final DType dtype;
    private final Tensor positions; // (L, 1)
    private final Linear l1;
    private final Linear l2;
    private final Linear l3;
    private final Variable mu;
    private final Variable sigma;
    private final Linear pointwise;

    public CkConv(int dim, Options o, DType dtype, Generator g) {
        this(dim, dim, o, dtype, g);
    }

    /**
     * The separable layer from {@code dim} to {@code out} channels: the depthwise continuous kernel over the {@code dim}
     * input channels, then the pointwise layer (out, dim), as the first SepFlexConv of a CCNN ({@link dev.tessera.nn.block.Ccnn}).
     */
    public CkConv(int dim, int out, Options o, DType dtype, Generator g) {
        if (dim <= 0 || out <= 0) {
            throw new IllegalArgumentException("mixer ckconv: widths must be positive, got " + dim + " and " + out);
        }
        this.c = dim;
        this.o = o;
        this.dtype = dtype;
        int l = o.length();
        double[] p = new double[l];
        for (int j = 0; j < l; j++) {
            p[j] = l == 1 ? 0 : (double) j / (l - 1);
        }
        positions = Tensor.of(p, l, 1).to(dtype);
        int h = o.hidden();
        double bound = Math.sqrt(6.0 / h) / o.omega();
        Group kernel = child("kernel", new Group());
        l1 = kernel.add("l1", new Linear(1, h, true, uniform(g, 1, dtype, h, 1)));
        l2 = kernel.add("l2", new Linear(h, h, true, uniform(g, bound, dtype, h, h)));
        l3 = kernel.add("l3", new Linear(h, dim, true, uniform(g, bound, dtype, dim, h)));
        l1.bias().data().copyFromInPlace(uniform(g, 1, dtype, h));
        if (o.mask()) {
            Group m = child("mask", new Group());
            mu = m.add("mu", Tensor.zeros(dtype, 1));
            sigma = m.add("sigma", Tensor.full(0.5, dtype, 1));
        } else {
            mu = null;
            sigma = null;
        }
        pointwise = child("pointwise", new Linear(dim, out, true, Tensor.randn(g, dtype, out, dim).mul(1 / Math.sqrt(dim))));
    }

    private static Tensor uniform(Generator g, double bound, DType dtype, int... shape) {
        return Tensor.rand(g, dtype, shape).mul(2 * bound).sub(bound);
    }

    /**
     * The (masked, cropped) kernel K at lags 0 … n − 1, (C, n): n = min(taps, L), and with FlexConv's cropping at most the
     * last lag where the mask is ≥ τ plus one; the MLP is evaluated only at the kept lags, those before the mask's support are
     * zero, and a mask below τ everywhere leaves one zero tap.
     */
    public Variable kernel(int taps) {
        int[] s = support();
        int n = Math.min(Math.min(taps, o.length()), s[1] + 1);
        if (n <= s[0]) {
            return OnDevice.zeros(l1.weight(), c, Math.max(1, n));
        }
        Variable pos = OnDevice.constant(positions.narrow(0, s[0], n - s[0]), l1.weight()); // (n − lo, 1)
        Variable a = l1.forward(pos).mul(o.omega()).sin();
        a = l2.forward(a).mul(o.omega()).sin();
        Variable k = l3.forward(a); // (n − lo, C)
        if (mu != null) {
            Variable z = pos.sub(mu).div(sigma); // (n − lo, 1)
            k = k.mul(z.square().mul(-0.5).exp());
        }
        if (s[0] > 0) {
            k = Variable.cat(0, OnDevice.zeros(k, s[0], c), k); // (n, C)
        }
        return k.mT(); // (C, n)
    }

    /**
     * FlexConv's cropping: the lags [lo, hi] (inclusive, within [0, L − 1]; hi &lt; lo when none) where the mask
     * exp(−½((Δ − μ)/σ)²) ≥ τ, i.e. |Δ − μ| ≤ |σ|·√(−2 ln τ), read from the current μ and σ (the crop itself has no
     * gradient, as in FlexConv); every lag without the mask or with τ = 0.
     */
    int[] support() {
        int last = o.length() - 1;
        if (mu == null || o.threshold() == 0) {
            return new int[] {0, last};
        }
        double reach = Math.abs(sigma.data().getDouble(0)) * Math.sqrt(-2 * Math.log(o.threshold()));
        double centre = mu.data().getDouble(0);
        if (last == 0) {
            return Math.abs(centre) <= reach ? new int[] {0, 0} : new int[] {0, -1};
        }
        double lo = Math.max(0, Math.ceil((centre - reach) * last));
        double hi = Math.min(last, Math.floor((centre + reach) * last));
        return lo > hi || !(lo <= last) || !(hi >= 0) ? new int[] {0, -1} : new int[] {(int) lo, (int) hi};
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer ckconv: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        Tensor keep = TokenMixer.carry("mixer ckconv", mask, x.size(0), x.size(1), state, x); // (B, T, 1) or null
        Variable conv;
        if (state == null) {
            conv = CausalLongConv.train(x, kernel(x.size(1)), keep);
        } else {
            Tensor[] next = CausalLongConv.decode(state.tensors() == null ? null : state.tensors()[0], x.data(),
                    kernel(state.length() + x.size(1)).data());
            state.advance(new Tensor[] {next[1]}, x.size(1));
            conv = Variable.constant(next[0]);
        }
        return pointwise.forward(conv);
    }

    @Override
    public String toString() {
        return (o.mask() ? "FlexConv" : "CkConv") + "(C=" + c + ", L=" + o.length() + ", H=" + o.hidden() + ", omega=" + o.omega() + ", "
                + dtype + ")";
    }
}
