package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E10 (second half): S5, the simplified state space layer (Smith, Warrington, Linderman 2023,
 * "Simplified State Space Layers for Sequence Modeling", ICLR), as a token mixer: one
 * multi-input multi-output state space over all channels with a diagonal complex state matrix,
 * trained by a parallel (associative) scan instead of S4's convolution, decoded as a recurrence.
 *
 * <pre>
 * Dimensions: B batch, T time, H channels (the model width C), P state size (complex).
 *
 *   Λ = min(Λ_re, −10⁻⁴) + i·Λ_im,  Δ = exp(log_step)           (P)  eigenvalues kept stable (clip_eigs)
 *   Λ̄ = exp(ΛΔ),  B̄ = ((Λ̄ − 1)/Λ) ⊙ B                           (P), (P, H) zero-order hold
 *   x_t = Λ̄ ⊙ x_{t−1} + B̄ u_t                                    (B, T, P) complex, x_{−1} = 0 (or the state)
 *   y_t = 2·Re(C x_t) + D ⊙ u_t                                  (B, T, H)  conjugate-symmetric pairs: 2·Re
 * </pre>
 *
 * The scan is {@link DiagonalScan}: the associative operator (a, b) ∘ (a', b') = (a·a', a·b' + b)
 * in log₂T steps. Parameters: {@code Lambda_re}, {@code Lambda_im} (P), {@code B} (P, H, 2) and
 * {@code C} (H, P, 2) as real and imaginary parts, {@code D} (H), {@code log_step} (P), named as
 * in the paper's code. Initialisation departs from the paper: S5 takes Λ as the eigenvalues of
 * the HiPPO-N matrix (and B, C in its eigenbasis), which needs a complex eigensolver this framework
 * does not have; here Λ_n = −½ + iπn, S4D-Lin's approximation of those eigenvalues (Gu et al.
 * 2022 §4), with B entries N(0, 1/(2H)) and C entries N(0, 1/(2P)) per part, D N(0, 1), and Δ
 * log-uniform in [dt_min, dt_max]. Decoding keeps x (B, 1, P) as real and imaginary parts in the
 * {@link MixerState}: O(1) per token. Packed training rows (the mask's document ids) restart the
 * recurrence at each document's first token.
 */
public final class S5 extends Module implements TokenMixer {

    /**
     * @param state P, the complex state size; 0 means H (the model width)
     * @param dtMin the smallest initial step Δ
     * @param dtMax the largest initial step Δ
     */
    public record Options(int state, double dtMin, double dtMax) {
        public Options {
            if (state < 0 || !(dtMin > 0 && dtMin <= dtMax && Double.isFinite(dtMax))) {
                throw new IllegalArgumentException("mixer s5: need state >= 0 and 0 < dt_min <= dt_max, got state=" + state + " dt_min="
                        + dtMin + " dt_max=" + dtMax);
            }
        }
    }

    private final int h;
    private final int p;
    private final DType dtype;
    private final Variable lambdaRe;
    private final Variable lambdaIm;
    private final Variable b;
    private final Variable c;
    private final Variable d;
    private final Variable logStep;

    /** An S5 over width {@code dim} from {@code g} (S4D-Lin eigenvalues, see the class comment). */
    public S5(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer s5: width must be positive, got " + dim);
        }
        this.h = dim;
        this.p = o.state() == 0 ? dim : o.state();
        this.dtype = dtype;
        double[] re = new double[p];
        double[] im = new double[p];
        double[] step = new double[p];
        for (int n = 0; n < p; n++) {
            re[n] = -0.5;
            im[n] = Math.PI * n;
            step[n] = Math.log(o.dtMin()) + g.nextDouble() * (Math.log(o.dtMax()) - Math.log(o.dtMin()));
        }
        lambdaRe = parameter("Lambda_re", Tensor.of(re, p).to(dtype));
        lambdaIm = parameter("Lambda_im", Tensor.of(im, p).to(dtype));
        b = parameter("B", Tensor.randn(g, dtype, p, h, 2).mul(1 / Math.sqrt(2.0 * h)));
        c = parameter("C", Tensor.randn(g, dtype, h, p, 2).mul(1 / Math.sqrt(2.0 * p)));
        d = parameter("D", Tensor.randn(g, dtype, h));
        logStep = parameter("log_step", Tensor.of(step, p).to(dtype));
    }

    /** P, the complex state size. */
    public int stateSize() {
        return p;
    }

    @Override
    public Variable forward(Variable u, AttentionMask mask, MixerState state) {
        check(u);
        int t = u.size(1);
        Tensor carry = TokenMixer.carry("mixer s5", mask, u.size(0), t, state, u); // (B, T, 1) or null
        Variable[] z = DiagonalScan.zeroOrderHold(lambdaRe.minimum(-1e-4), lambdaIm, logStep.exp()); // (P) each
        Variable[] in = input(u, z);
        Variable[] x = DiagonalScan.scan(in[0], in[1], z[0], z[1], carry, state == null ? null : state.tensors());
        if (state != null) {
            state.advance(DiagonalScan.last(x), t);
        }
        return output(x[0], x[1], u);
    }

    /**
     * The sequential form, one token at a time from the zero state: x_t = Λ̄ ⊙ x_{t−1} + B̄ u_t, kept in
     * the graph (for the tests: equal to the scan of {@link #forward} and differentiable).
     */
    public Variable recurrence(Variable u) {
        check(u);
        Variable[] z = DiagonalScan.zeroOrderHold(lambdaRe.minimum(-1e-4), lambdaIm, logStep.exp());
        Variable[] in = input(u, z);
        Variable[] ys = new Variable[u.size(1)];
        Variable re = null;
        Variable im = null;
        for (int t = 0; t < ys.length; t++) {
            Variable inRe = in[0].narrow(1, t, 1);
            Variable inIm = in[1].narrow(1, t, 1);
            Variable nRe = re == null ? inRe : inRe.add(DiagonalScan.mulRe(z[0], z[1], re, im));
            im = im == null ? inIm : inIm.add(DiagonalScan.mulIm(z[0], z[1], re, im));
            re = nRe;
            ys[t] = output(re, im, u.narrow(1, t, 1));
        }
        return Variable.cat(1, ys);
    }

    /** B̄ u as {re, im} (B, T, P): the factor (Λ̄ − 1)/Λ times B u. */
    private Variable[] input(Variable u, Variable[] z) {
        Variable buRe = u.matmul(b.select(2, 0).mT()); // (B, T, P)
        Variable buIm = u.matmul(b.select(2, 1).mT());
        return new Variable[] {DiagonalScan.mulRe(z[2], z[3], buRe, buIm), DiagonalScan.mulIm(z[2], z[3], buRe, buIm)};
    }

    /** y = 2·Re(C x) + D ⊙ u from the states {re, im} (B, T, P). */
    private Variable output(Variable xRe, Variable xIm, Variable u) {
        return xRe.matmul(c.select(2, 0).mT()).sub(xIm.matmul(c.select(2, 1).mT())).mul(2).add(u.mul(d));
    }

    private void check(Variable u) {
        MixerInput.check("mixer s5", u, h);
    }

    @Override
    public String toString() {
        return "S5(H=" + h + ", P=" + p + ", " + dtype + ")";
    }
}
