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
 * E10 (first half): S4D, the diagonal structured state space (Gu, Gupta, Goel, Ré 2022, "On the
 * Parameterization and Initialization of Diagonal State Space Models", NeurIPS), as a token mixer:
 * one single-input single-output state space per channel, N/2 complex modes each (their conjugate
 * pairs implied, hence the 2·Re), in two equal forms: a causal convolution with the Vandermonde
 * kernel K through the FFT for training, and the recurrence for decoding.
 *
 * <pre>
 * Dimensions: B batch, T time, H channels (the model width C), N state size (N/2 complex modes).
 *
 *   A = −exp(log_A_real) + i·A_imag,  Δ = exp(log_dt)           (H, N/2), (H)
 *   Ā = exp(ΔA),  B̄ = (Ā − 1)/A · B   (zero-order hold; B = 1)  (H, N/2)
 *   x_t = Ā ⊙ x_{t−1} + B̄ u_t,   y_t = 2·Re(Σ_n C_n x_{t,n})     recurrent view, x (B, T, H, N/2)
 *   K_l = 2·Re(Σ_n C_n B̄_n Ā_n^l),   y = K ∗ u (causal)          convolution view, K (H, T)
 *   out = GLU(W·GELU(y + D ⊙ u) + b)                             (B, T, H), W (2H, H)
 * </pre>
 *
 * S4D-Lin initialisation (§4): A_n = −½ + iπn, Δ log-uniform in [dt_min, dt_max], C complex
 * N(0, ½) per part, D N(0, 1). Parameter names are those of the paper's reference module
 * ({@code s4d.py}: {@code log_dt}, {@code log_A_real}, {@code A_imag}, {@code C} as (H, N/2, 2) real
 * and imaginary parts, {@code D}, {@code output_linear}); the output GELU and GLU linear are that
 * module's, the per-channel SSM alone does not mix channels.
 *
 * <p>The convolution runs as an FFT product of length 2T (zero padding makes it linear, not
 * circular): O(T log T) per channel. Decoding keeps x (B, 1, H, N/2) as real and imaginary parts in
 * the {@link MixerState}: O(1) per token; a chunk of several tokens runs as a {@link DiagonalScan}
 * from the state. Packed training rows (the mask's document ids) restart the recurrence at each
 * document's first token: a single convolution cannot restart, so each document is convolved alone
 * with the same kernel (the scan form restarts too, but keeps (B, T, H, N/2) complex states per
 * scan step for the backward pass: gigabytes at the tiny preset's sizes).
 */
public final class S4d extends Module implements TokenMixer {

    /**
     * @param state N, the real state size (N/2 complex modes), even and at least 2
     * @param dtMin the smallest initial step Δ
     * @param dtMax the largest initial step Δ
     */
    public record Options(int state, double dtMin, double dtMax) {
        public Options {
            if (state < 2 || state % 2 != 0 || !(dtMin > 0 && dtMin <= dtMax && Double.isFinite(dtMax))) {
                throw new IllegalArgumentException("mixer s4d: need an even state >= 2 and 0 < dt_min <= dt_max, got state=" + state
                        + " dt_min=" + dtMin + " dt_max=" + dtMax);
            }
        }
    }

    private final int h;
    private final int modes;
    private final DType dtype;
    private final Variable logDt;
    private final Variable logAReal;
    private final Variable aImag;
    private final Variable c;
    private final Variable d;
    private final Linear outputLinear;

    /** An S4D over width {@code dim} with the S4D-Lin initialisation from {@code g}. */
    public S4d(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer s4d: width must be positive, got " + dim);
        }
        this.h = dim;
        this.modes = o.state() / 2;
        this.dtype = dtype;
        Tensor[] lin = linInit(h, modes, o.dtMin(), o.dtMax(), dtype, g);
        logDt = parameter("log_dt", lin[0]);
        logAReal = parameter("log_A_real", lin[1]);
        aImag = parameter("A_imag", lin[2]);
        c = parameter("C", Tensor.randn(g, dtype, h, modes, 2).mul(Math.sqrt(0.5)));
        d = parameter("D", Tensor.randn(g, dtype, h));
        outputLinear = child("output_linear", new Linear(h, 2 * h, true, Tensor.randn(g, dtype, 2 * h, h).mul(1 / Math.sqrt(h))));
    }

    /**
     * The S4D-Lin initialisation (§4) of {@code h} channels with {@code modes} complex modes each, as {log_dt (H),
     * log_A_real (H, N/2), A_imag (H, N/2)}: A_n = −½ + iπn, Δ log-uniform in [dtMin, dtMax] (one draw from {@code g} per channel).
     */
    static Tensor[] linInit(int h, int modes, double dtMin, double dtMax, DType dtype, Generator g) {
        double[] dt = new double[h];
        double[] aRe = new double[h * modes];
        double[] aIm = new double[h * modes];
        for (int i = 0; i < h; i++) {
            dt[i] = Math.log(dtMin) + g.nextDouble() * (Math.log(dtMax) - Math.log(dtMin));
            for (int n = 0; n < modes; n++) {
                aRe[i * modes + n] = Math.log(0.5);
                aIm[i * modes + n] = Math.PI * n;
            }
        }
        return new Tensor[] {Tensor.of(dt, h).to(dtype), Tensor.of(aRe, h, modes).to(dtype), Tensor.of(aIm, h, modes).to(dtype)};
    }

    /** N/2, the number of complex modes per channel. */
    public int modes() {
        return modes;
    }

    /** {Āre, Āim, B̄re, B̄im} (H, N/2): the zero-order-hold discretisation. */
    private Variable[] discrete() {
        return DiagonalScan.zeroOrderHold(logAReal.exp().neg(), aImag, logDt.exp().unsqueeze(1));
    }

    /** The convolution kernel K (H, L) = 2·Re(Σ_n C_n B̄_n Ā_n^l), l = 0 … L−1 (Vandermonde in Ā). */
    public Variable kernel(int length) {
        return kernel(logDt, logAReal, aImag, c, length);
    }

    /** K (H, L) from S4D parameters log_dt (H), log_A_real and A_imag (H, N/2), C (H, N/2, 2): shared with {@link H3}. */
    static Variable kernel(Variable logDt, Variable logAReal, Variable aImag, Variable c, int length) {
        Variable dt = logDt.exp().unsqueeze(1);
        Variable[] z = DiagonalScan.zeroOrderHold(logAReal.exp().neg(), aImag, dt);
        Variable cRe = c.select(2, 0);
        Variable cIm = c.select(2, 1);
        Variable ctRe = DiagonalScan.mulRe(cRe, cIm, z[2], z[3]).unsqueeze(2); // (H, N/2, 1)
        Variable ctIm = DiagonalScan.mulIm(cRe, cIm, z[2], z[3]).unsqueeze(2);
        double[] steps = new double[length];
        for (int l = 0; l < length; l++) {
            steps[l] = l;
        }
        Variable l = OnDevice.constant(Tensor.of(steps, length), logDt); // (L)
        // Ā^l = exp(ΔA·l), by its modulus and phase: no repeated products, no growth of rounding with l
        Variable mod = logAReal.exp().neg().mul(dt).unsqueeze(2).mul(l).exp(); // (H, N/2, L)
        Variable phase = aImag.mul(dt).unsqueeze(2).mul(l);
        return ctRe.mul(mod.mul(phase.cos())).sub(ctIm.mul(mod.mul(phase.sin()))).sum(1).mul(2); // (H, L)
    }

    @Override
    public Variable forward(Variable u, AttentionMask mask, MixerState state) {
        check(u);
        Tensor carry = TokenMixer.carry("mixer s4d", mask, u.size(0), u.size(1), state, u); // (B, T, 1) or null
        Variable y = state != null ? scan(u, state) : carry == null ? convolution(u, kernel(u.size(1))) : perDocument(u, carry);
        return output(y, u);
    }

    /** The recurrent view from the zero state as a parallel scan (for the tests: equal to the convolution). */
    public Variable recurrence(Variable u) {
        check(u);
        return output(scan(u, null), u);
    }

    /**
     * The convolution of each packed document alone (rows split where {@code carry} (B, T, 1) is 0), one kernel for all:
     * (B, T, H). The scan form would restart too, but it keeps (B, T, H, N/2) complex states per scan step for the
     * backward pass, gigabytes at training sizes.
     */
    private Variable perDocument(Variable u, Tensor carry) {
        int b = u.size(0);
        int t = u.size(1);
        Variable k = kernel(t); // (H, T)
        Variable[] rows = new Variable[b];
        for (int r = 0; r < b; r++) {
            java.util.List<Variable> docs = new java.util.ArrayList<>();
            int start = 0;
            for (int q = 1; q <= t; q++) {
                if (q == t || carry.getDouble(r, q, 0) == 0) {
                    docs.add(convolution(u.narrow(0, r, 1).narrow(1, start, q - start), k.narrow(1, 0, q - start)));
                    start = q;
                }
            }
            rows[r] = docs.size() == 1 ? docs.get(0) : Variable.cat(1, docs.toArray(Variable[]::new));
        }
        return b == 1 ? rows[0] : Variable.cat(0, rows);
    }

    /** y = K ∗ u causally for u (B, T, H) and K (H, T), by an FFT product of length 2T: (B, T, H). */
    static Variable convolution(Variable u, Variable k) {
        int h = u.size(2);
        int b = u.size(0);
        int t = u.size(1);
        Variable uPad = Variable.cat(2, u.transpose(1, 2), OnDevice.zeros(u, b, h, t)); // (B, H, 2T)
        Variable kPad = Variable.cat(1, k, OnDevice.zeros(u, h, t)); // (H, 2T)
        Variable uf = uPad.rfft(2); // (B, H, T + 1, 2)
        Variable kf = kPad.rfft(1); // (H, T + 1, 2)
        Variable ur = uf.narrow(3, 0, 1);
        Variable ui = uf.narrow(3, 1, 1);
        Variable kr = kf.narrow(2, 0, 1);
        Variable ki = kf.narrow(2, 1, 1);
        Variable product = Variable.cat(3, DiagonalScan.mulRe(ur, ui, kr, ki), DiagonalScan.mulIm(ur, ui, kr, ki)); // (B, H, T + 1, 2)
        return product.irfft(2 * t, 2).narrow(2, 0, t).transpose(1, 2); // (B, T, H)
    }

    /** y = 2·Re(Σ_n C_n x_t,n) with x_t = Ā x_{t−1} + B̄ u_t scanned over the chunk from {@code state}; advances it. */
    private Variable scan(Variable u, MixerState state) {
        int t = u.size(1);
        Variable[] z = discrete();
        Variable u4 = u.unsqueeze(3); // (B, T, H, 1)
        Variable[] x = DiagonalScan.scan(u4.mul(z[2]), u4.mul(z[3]), z[0], z[1], null, state == null ? null : state.tensors());
        if (state != null) {
            state.advance(DiagonalScan.last(x), t);
        }
        return x[0].mul(c.select(2, 0)).sub(x[1].mul(c.select(2, 1))).sum(3).mul(2); // (B, T, H)
    }

    /** GLU(W·GELU(y + D ⊙ u) + b): the reference module's output stage. */
    private Variable output(Variable y, Variable u) {
        Variable z = outputLinear.forward(y.add(u.mul(d)).gelu()); // (B, T, 2H)
        return z.narrow(2, 0, h).mul(z.narrow(2, h, h).sigmoid());
    }

    private void check(Variable u) {
        MixerInput.check("mixer s4d", u, h);
    }

    @Override
    public String toString() {
        return "S4d(H=" + h + ", N=" + 2 * modes + ", " + dtype + ")";
    }
}
