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
 * E20: the BiGS layer, a bidirectional gated state space model (Wang, Yan, Gu, Rush 2022,
 * "Pretraining Without Attention", arXiv:2212.10544), bidirectional only (every position reads
 * the whole sequence, so only the BERT encoder takes it): two diagonal SSMs, one run left to right
 * and one run over the flipped sequence, their projections multiplied, then gated by a GELU
 * branch.
 * <pre>
 * Dimensions: B batch, L time, C channels (d), H hidden (3d by default), N the SSM's state size.
 *
 *   V  = σ(W_v X)                                   (B, L, H)      σ = GELU, {@code dv}
 *   F  = σ(W_f X),  Bk = σ(W_b Flip(X))             (B, L, C)      {@code du_forward}, {@code du_backward}
 *   U_l = W_ul SSM_f(F),  U_r = W_ur SSM_b(Bk)      (B, L, C)      {@code duc_forward}, {@code duc_backward}
 *   U  = σ(W_u (U_l ⊙ Flip(U_r)))                   (B, L, H)      {@code dol}
 *   O  = W_o (U ⊙ V)                                (B, L, C)      {@code do}
 * </pre>
 * Flip reverses time, so SSM_b reads the future right to left. Each SSM is S4D (Gu, Gupta, Goel,
 * Ré 2022, "On the Parameterization and Initialization of Diagonal State Space Models"), per
 * channel c, with zero-order-hold discretisation and B = 1:
 * <pre>
 *   A_n = −exp(log_a_re_n) + i·a_im_n,  Δ = exp(log_step),  Ā_n = exp(Δ A_n),  B̄_n = (Ā_n − 1) / A_n
 *   recurrent view:     s_t = Ā ⊙ s_{t−1} + B̄ u_t,   y_t = 2·Re(Σ_n C_n s_{t,n}) + D u_t
 *   convolution view:   y = K ∗ u + D u,             K_l = 2·Re(Σ_n C_n B̄_n Ā_n^l),  l = 0 … L−1
 * </pre>
 * The layer computes the convolution view: the kernel K (C, L) from the parameters, then
 * {@link Variable#causalConv} (direct or FFT), left to right on F and on the flipped Bk; the tests
 * compare it with the recurrent view. Initialisation as S4D-Lin and the BiGS code: log_a_re =
 * log 0.5, a_im_n = π n, C ~ N(0, ½) per real and imaginary part, log Δ uniform in [log 0.01,
 * log 1], D ~ N(0, 1).
 *
 * <p>Departures from the released BiGS code, following the papers: its S4D kernel shares one Δ,
 * A and C across all channels and keeps Re A negative with a clamp (here per channel, as S4D
 * describes, with Re A = −exp(·), smooth for the gradient check), and it drops S4D's factor 2
 * (a scale the projections absorb). The layer norm and the residual of the paper's block are the
 * BERT layer's. A packed document or a padding run ({@link Segments}) is mixed alone, so both
 * directions restart at its ends.
 */
public final class Bigs extends Module implements TokenMixer {

    /**
     * @param state N, complex states per channel of each SSM (default 32: S4D's d_state = 64 as conjugate pairs)
     * @param hidden H, the width of the gating branch (0: 3·C, the paper's)
     */
    public record Options(int state, int hidden) {
        public Options {
            if (state < 1 || hidden < 0) {
                throw new IllegalArgumentException("mixer bigs: need state >= 1 and hidden >= 0, got state=" + state + " hidden=" + hidden);
            }
        }
    }

    private final String who = "mixer bigs";
    private final int dim;
    private final Linear dv;
    private final Linear duForward;
    private final Linear duBackward;
    private final Ssm fs4;
    private final Ssm bs4;
    private final Linear ducForward;
    private final Linear ducBackward;
    private final Linear dol;
    private final Linear out;

    /** A BiGS layer over width {@code dim}, initialised from {@code g}. */
    public Bigs(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        int h = o.hidden() == 0 ? 3 * dim : o.hidden();
        dv = child("dv", linear(dim, h, dtype, g));
        duForward = child("du_forward", linear(dim, dim, dtype, g));
        duBackward = child("du_backward", linear(dim, dim, dtype, g));
        fs4 = child("fs4", new Ssm(dim, o.state(), dtype, g));
        bs4 = child("bs4", new Ssm(dim, o.state(), dtype, g));
        ducForward = child("duc_forward", linear(dim, dim, dtype, g));
        ducBackward = child("duc_backward", linear(dim, dim, dtype, g));
        dol = child("dol", linear(dim, h, dtype, g));
        out = child("do", linear(h, dim, dtype, g));
    }

    /** PyTorch's Linear init, U(±1/√in) for weight and bias, in {@code dtype}. */
    private static Linear linear(int in, int outs, DType dtype, Generator g) {
        double bound = 1 / Math.sqrt(in);
        Linear l = new Linear(in, outs, true, Tensor.rand(g, dtype, outs, in).mul(2 * bound).sub(bound));
        l.bias().data().copyFromInPlace(Tensor.rand(g, dtype, outs).mul(2 * bound).sub(bound));
        return l;
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, false, x, dim, mask, state);
        int l = s.longest();
        Variable kf = fs4.kernel(l); // (C, L): computed once, cut to each run's length
        Variable kb = bs4.kernel(l);
        return s.eachRun(x, run -> layer(run, kf, kb)); // (B, T, C), each packed document / padding run alone
    }

    /** The BiGS equations on x (B, L, C), with the two SSMs' kernels (C, ≥ L). */
    private Variable layer(Variable x, Variable kf, Variable kb) {
        Variable v = dv.forward(x).gelu(); // (B, L, H)
        Variable f = duForward.forward(x).gelu(); // (B, L, C)
        Variable b = duBackward.forward(flip(x)).gelu(); // (B, L, C), right to left
        Variable ul = ducForward.forward(fs4.apply(f, kf)); // (B, L, C)
        Variable ur = flip(ducBackward.forward(bs4.apply(b, kb))); // (B, L, C), back in left-to-right order
        Variable u = dol.forward(ul.mul(ur)).gelu(); // (B, L, H)
        return out.forward(u.mul(v)); // (B, L, C)
    }

    /** x (B, L, C) with time reversed. */
    private static Variable flip(Variable x) {
        int l = x.size(1);
        long[] back = new long[l];
        for (int t = 0; t < l; t++) {
            back[t] = l - 1 - t;
        }
        return x.indexSelect(1, OnDevice.of(Tensor.of(back, l), x));
    }

    /** One S4D SSM over C channels with N complex states each: its kernel and its convolution. */
    static final class Ssm extends Module {
        private final Variable logStep;
        private final Variable logARe;
        private final Variable aIm;
        private final Variable c;
        private final Variable d;

        Ssm(int channels, int n, DType dtype, Generator g) {
            logStep = parameter("log_step", Tensor.rand(g, dtype, channels, 1).mul(Math.log(100)).add(Math.log(0.01))); // (C, 1)
            logARe = parameter("log_a_re", Tensor.full(Math.log(0.5), dtype, channels, n)); // (C, N)
            double[] im = new double[channels * n];
            for (int i = 0; i < im.length; i++) {
                im[i] = Math.PI * (i % n);
            }
            aIm = parameter("a_im", Tensor.of(im, channels, n).to(dtype)); // (C, N)
            c = parameter("c", Tensor.randn(g, dtype, channels, n, 2).mul(Math.sqrt(0.5))); // (C, N, 2): real, imaginary
            d = parameter("d", Tensor.randn(g, dtype, channels)); // (C)
        }

        /** K (C, L), K_l = 2·Re(Σ_n C_n B̄_n Ā_n^l), in real arithmetic on the real and imaginary parts. */
        Variable kernel(int l) {
            Variable step = logStep.exp(); // (C, 1)
            Variable a = logARe.exp().neg(); // (C, N) Re A
            Variable b = aIm; // (C, N) Im A
            Variable p = a.mul(step); // Re ΔA
            Variable q = b.mul(step); // Im ΔA
            Variable ep = p.exp();
            Variable r = ep.mul(q.cos()).sub(1); // Re(Ā − 1)
            Variable s = ep.mul(q.sin()); // Im(Ā − 1)
            Variable den = a.square().add(b.square());
            Variable gr = r.mul(a).add(s.mul(b)).div(den); // Re B̄ = Re((Ā − 1) / A)
            Variable gi = s.mul(a).sub(r.mul(b)).div(den); // Im B̄
            Variable cr = c.narrow(2, 0, 1).reshape(gr.shape());
            Variable ci = c.narrow(2, 1, 1).reshape(gr.shape());
            Variable wr = cr.mul(gr).sub(ci.mul(gi)).unsqueeze(2); // (C, N, 1) Re(C B̄)
            Variable wi = cr.mul(gi).add(ci.mul(gr)).unsqueeze(2); // Im(C B̄)
            double[] ls = new double[l];
            for (int i = 0; i < l; i++) {
                ls[i] = i;
            }
            Variable pos = OnDevice.constant(Tensor.of(ls, 1, 1, l), p); // (1, 1, L)
            Variable decay = p.unsqueeze(2).mul(pos).exp(); // (C, N, L) |Ā^l|
            Variable angle = q.unsqueeze(2).mul(pos); // (C, N, L) arg Ā^l
            return wr.mul(angle.cos()).sub(wi.mul(angle.sin())).mul(decay).sum(1).mul(2); // (C, L)
        }

        /** y = K ∗ u + D ⊙ u for u (B, L, C) and a kernel (C, ≥ L), causal along time. */
        Variable apply(Variable u, Variable k) {
            int l = u.size(1);
            return u.transpose(1, 2).causalConv(k.narrow(1, 0, l)).transpose(1, 2).add(u.mul(d)); // (B, L, C)
        }

        @Override
        public String toString() {
            return "S4D(C=" + d.size(0) + ", N=" + logARe.size(1) + ")";
        }
    }

    @Override
    public String toString() {
        return "Bigs(C=" + dim + ", H=" + dv.outFeatures() + ", N=" + fs4.logARe.size(1) + ")";
    }
}
