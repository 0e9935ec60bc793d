package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E11: the Linear Recurrent Unit (Orvieto, Smith, Gu, Fernando, Gulcehre, Pascanu, De 2023,
 * "Resurrecting Recurrent Neural Networks for Long Sequences", ICML), a token mixer: a diagonal
 * complex linear recurrence, no nonlinearity inside, so training runs as a parallel scan and
 * decoding as an O(1)-per-token recurrence.
 *
 * <pre>
 * Dimensions: B batch, T time, H channels (the model width C), N state size (complex).
 *
 *   λ = exp(−exp(ν) + i·exp(θ))                  (N)   exponential parametrisation, |λ| &lt; 1 always
 *   γ = exp(γ_log), initialised √(1 − |λ|²)       (N)   normalisation of the input
 *   x_t = λ ⊙ x_{t−1} + γ ⊙ (B u_t)               (B, T, N) complex, x_{−1} = 0 (or the decoding state)
 *   y_t = Re(C x_t) + D ⊙ u_t                     (B, T, H)
 * </pre>
 *
 * Ring initialisation (§3.3): |λ| = r uniform on the ring r_min ≤ r ≤ r_max by area, i.e.
 * ν = log(−½·log(U·(r_max² − r_min²) + r_min²)), and phase arg λ = U·max_phase, θ = log(arg λ);
 * B = (B_re + i·B_im) with entries N(0, 1/(2H)), C = (C_re + i·C_im) with entries N(0, 1/N), D
 * entries N(0, 1). Parameter names are the paper's appendix code's ({@code nu_log},
 * {@code theta_log}, {@code gamma_log}, {@code B_re}, {@code B_im}, {@code C_re}, {@code C_im},
 * {@code D}). Defaults r_min 0.9, r_max 0.999 are the paper's long-range settings; its code's
 * generic default r_min 0, r_max 1 forgets in a step or two, too short for language.
 *
 * <p>Training uses the parallel form: a Hillis–Steele scan over time ({@link DiagonalScan}), log₂T steps of
 * x_t ← x_t + λ^d ⊙ x_{t−d} with λ^d squared each step (λ is time-invariant), equal to the
 * recurrence ({@link #recurrence}) up to rounding; the tests check both against a naive
 * double-precision loop. Packed training rows (the mask's document ids) restart the recurrence
 * at each document's first token: there the coefficient of x_{t−1} is 0, and the scan carries
 * the time-varying products a_t·a_{t−d} instead of λ^d.
 */
public final class Lru extends Module implements TokenMixer {

    /**
     * @param state N, the complex state size; 0 means H (the model width)
     * @param rMin the ring's inner radius, 0 ≤ r_min &lt; r_max
     * @param rMax the ring's outer radius, below 1
     * @param maxPhase the largest initial phase arg λ, in (0, 2π]
     */
    public record Options(int state, double rMin, double rMax, double maxPhase) {
        public Options {
            if (state < 0 || !(rMin >= 0 && rMin < rMax && rMax < 1) || !(maxPhase > 0 && maxPhase <= 2 * Math.PI + 1e-9)) {
                throw new IllegalArgumentException("mixer lru: need state >= 0, 0 <= r_min < r_max < 1, 0 < max_phase <= 2pi, got state="
                        + state + " r_min=" + rMin + " r_max=" + rMax + " max_phase=" + maxPhase);
            }
        }
    }

    private final int h;
    private final int n;
    private final DType dtype;
    private final Variable nuLog;
    private final Variable thetaLog;
    private final Variable gammaLog;
    private final Variable bRe;
    private final Variable bIm;
    private final Variable cRe;
    private final Variable cIm;
    private final Variable d;

    /** An LRU over width {@code dim} with the ring initialisation from {@code g}. */
    public Lru(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer lru: width must be positive, got " + dim);
        }
        this.h = dim;
        this.n = o.state() == 0 ? dim : o.state();
        this.dtype = dtype;
        double[] nu = new double[n];
        double[] theta = new double[n];
        double[] gamma = new double[n];
        for (int i = 0; i < n; i++) {
            double u1 = g.nextDouble();
            double u2 = g.nextDouble();
            nu[i] = Math.log(-0.5 * Math.log(u1 * (o.rMax() * o.rMax() - o.rMin() * o.rMin()) + o.rMin() * o.rMin()));
            theta[i] = Math.log(Math.max(u2, 1e-6) * o.maxPhase());
            double modulus = Math.exp(-Math.exp(nu[i]));
            gamma[i] = Math.log(Math.sqrt(1 - modulus * modulus));
        }
        nuLog = parameter("nu_log", Tensor.of(nu, n).to(dtype));
        thetaLog = parameter("theta_log", Tensor.of(theta, n).to(dtype));
        gammaLog = parameter("gamma_log", Tensor.of(gamma, n).to(dtype));
        bRe = parameter("B_re", Tensor.randn(g, dtype, n, h).mul(1 / Math.sqrt(2.0 * h)));
        bIm = parameter("B_im", Tensor.randn(g, dtype, n, h).mul(1 / Math.sqrt(2.0 * h)));
        cRe = parameter("C_re", Tensor.randn(g, dtype, h, n).mul(1 / Math.sqrt(n)));
        cIm = parameter("C_im", Tensor.randn(g, dtype, h, n).mul(1 / Math.sqrt(n)));
        d = parameter("D", Tensor.randn(g, dtype, h));
    }

    /** N, the complex state size. */
    public int stateSize() {
        return n;
    }

    /** λ as {real, imaginary} parts (N). */
    Variable[] lambda() {
        Variable modulus = nuLog.exp().neg().exp();
        Variable phase = thetaLog.exp();
        return new Variable[] {modulus.mul(phase.cos()), modulus.mul(phase.sin())};
    }

    /** γ ⊙ (B u) as {real, imaginary} parts (B, T, N). */
    private Variable[] input(Variable u) {
        Variable gamma = gammaLog.exp();
        return new Variable[] {u.matmul(bRe.mT()).mul(gamma), u.matmul(bIm.mT()).mul(gamma)};
    }

    /** y = Re(C x) + D ⊙ u from the states {re, im} (B, T, N) and the input u (B, T, H). */
    private Variable output(Variable xRe, Variable xIm, Variable u) {
        return xRe.matmul(cRe.mT()).sub(xIm.matmul(cIm.mT())).add(u.mul(d));
    }

    @Override
    public Variable forward(Variable u, AttentionMask mask, MixerState state) {
        check(u);
        int t = u.size(1);
        Tensor carry = TokenMixer.carry("mixer lru", mask, u.size(0), t, state, u); // (B, T, 1) or null
        Variable[] lam = lambda();
        Variable[] bu = input(u); // (B, T, N) each
        Variable[] x = DiagonalScan.scan(bu[0], bu[1], lam[0], lam[1], carry, state == null ? null : state.tensors());
        if (state != null) {
            state.advance(DiagonalScan.last(x), t);
        }
        return output(x[0], x[1], u);
    }

    /**
     * The recurrent form, one token at a time from the zero state: x_t = λ ⊙ x_{t−1} + γ ⊙ (B u_t),
     * kept in the graph (for the tests: equal to {@link #forward} and differentiable).
     */
    public Variable recurrence(Variable u) {
        check(u);
        Variable[] lam = lambda();
        Variable[] bu = input(u);
        Variable[] ys = new Variable[u.size(1)];
        Variable re = null;
        Variable im = null;
        for (int t = 0; t < ys.length; t++) {
            Variable inRe = bu[0].narrow(1, t, 1);
            Variable inIm = bu[1].narrow(1, t, 1);
            Variable nRe = re == null ? inRe : inRe.add(DiagonalScan.mulRe(lam[0], lam[1], re, im));
            Variable nIm = im == null ? inIm : inIm.add(DiagonalScan.mulIm(lam[0], lam[1], re, im));
            re = nRe;
            im = nIm;
            ys[t] = output(re, im, u.narrow(1, t, 1));
        }
        return Variable.cat(1, ys);
    }

    private void check(Variable u) {
        if (u.rank() != 3 || u.size(2) != h || u.size(1) == 0) {
            throw new IllegalArgumentException("mixer lru: input must be (B, T, " + h + ") with T >= 1, got "
                    + java.util.Arrays.toString(u.shape()));
        }
    }

    @Override
    public String toString() {
        return "Lru(H=" + h + ", N=" + n + ", " + dtype + ")";
    }
}
