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
 * E9 (second half): H3, the Hungry Hungry Hippos layer (Fu, Dao, Saab, Thomas, Rudra, Ré 2023,
 * "Hungry Hungry Hippos: Towards Language Modeling with State Space Models", ICLR), in the
 * single-head (d_head = 1) form of the paper's Algorithm 1: a shift SSM lets a token remember its
 * recent keys, a diagonal SSM accumulates K̄ ⊙ V over the whole past, and the query reads it out
 * (multiplicative interactions, as attention's QKᵀV, at O(1) state per token).
 *
 * <pre>
 * Dimensions: B batch, T time, H channels (the model width C), W shift-SSM taps, N diagonal state (N/2 complex modes).
 *
 *   Q, K, V = x W_q, x W_k, x W_v                                   (B, T, H) each, in_proj (3H, H)
 *   K̄_t = Σ_{j&lt;W} s_j ⊙ K_{t−j}                                    shift SSM: A = shift matrix, B = e₁, C = s (H, W)
 *   u = K̄ ⊙ V
 *   A = −exp(log_A_real) + i·A_imag,  Δ = exp(log_dt)               S4D diagonal SSM, zero-order hold:
 *   x_t = Ā ⊙ x_{t−1} + B̄ u_t,  z_t = 2·Re(Σ_n C_n x_{t,n}) + D ⊙ u_t    Ā = exp(ΔA), B̄ = (Ā − 1)/A
 *   y = (Q ⊙ z) W_o                                                  out_proj (H, H)
 * </pre>
 *
 * The shift SSM's output is its learned C times the shift register, i.e. a W-tap causal
 * convolution per channel; the paper runs it with N = 64 taps through the FFT, here W is the
 * option {@code shift} (default 4; the register is part of the decoding state). The diagonal SSM
 * is {@link S4d}'s parameterisation and S4D-Lin initialisation, in the paper's two views: training
 * from the zero state convolves K̄ ⊙ V with S4D's Vandermonde kernel through the FFT (O(T log T), as the
 * paper's FFTConv), decoding runs the recurrence as a {@link DiagonalScan} from the held state, and
 * packed documents use the scan with restarts (its backward keeps (B, T, H, N/2) states per scan step). Decoding keeps
 * the last W − 1 keys and x (B, 1, H, N/2) as real and imaginary parts: O(1) per token. Packed
 * training rows (the mask's document ids) restart both SSMs at each document's first token.
 */
public final class H3 extends Module implements TokenMixer {

    /**
     * @param state N, the diagonal SSM's real state size (N/2 complex modes), even and at least 2
     * @param shift W, the shift SSM's taps (its state holds W − 1 past keys), at least 2
     * @param dtMin the smallest initial step Δ
     * @param dtMax the largest initial step Δ
     */
    public record Options(int state, int shift, double dtMin, double dtMax) {
        public Options {
            if (state < 2 || state % 2 != 0 || shift < 2 || !(dtMin > 0 && dtMin <= dtMax && Double.isFinite(dtMax))) {
                throw new IllegalArgumentException("mixer h3: need an even state >= 2, shift >= 2 and 0 < dt_min <= dt_max, got state=" + state
                        + " shift=" + shift + " dt_min=" + dtMin + " dt_max=" + dtMax);
            }
        }
    }

    private final int h;
    private final int modes;
    private final int taps;
    private final DType dtype;
    private final Linear inProj;
    private final Variable shiftKernel;
    private final Variable logDt;
    private final Variable logAReal;
    private final Variable aImag;
    private final Variable c;
    private final Variable d;
    private final Linear outProj;

    /** An H3 layer over width {@code dim}, initialised from {@code g} (S4D-Lin for the diagonal SSM). */
    public H3(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer h3: width must be positive, got " + dim);
        }
        this.h = dim;
        this.modes = o.state() / 2;
        this.taps = o.shift();
        this.dtype = dtype;
        inProj = child("in_proj", new Linear(h, 3 * h, true, Tensor.randn(g, dtype, 3 * h, h).mul(1 / Math.sqrt(h))));
        shiftKernel = parameter("shift_kernel", Tensor.randn(g, dtype, h, taps).mul(1 / Math.sqrt(taps)));
        Tensor[] lin = S4d.linInit(h, modes, o.dtMin(), o.dtMax(), dtype, g);
        logDt = parameter("log_dt", lin[0]);
        logAReal = parameter("log_A_real", lin[1]);
        aImag = parameter("A_imag", lin[2]);
        c = parameter("C", Tensor.randn(g, dtype, h, modes, 2).mul(Math.sqrt(0.5)));
        d = parameter("D", Tensor.randn(g, dtype, h));
        outProj = child("out_proj", new Linear(h, h, true, Tensor.randn(g, dtype, h, h).mul(1 / Math.sqrt(h))));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        MixerInput.check("mixer h3", x, h);
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer h3", mask, b, t, state, x); // (B, T, 1) or null
        return mix(x, carry, state, state != null || carry != null);
    }

    /** The recurrent view from the zero state as a parallel scan (for the tests: equal to the convolution view). */
    public Variable recurrence(Variable x) {
        MixerInput.check("mixer h3", x, h);
        return mix(x, null, null, true);
    }

    /** The layer over x (B, T, H); the diagonal SSM as a scan from {@code state} ({@code scan}) or as the FFT convolution. */
    private Variable mix(Variable x, Tensor carry, MixerState state, boolean scan) {
        int b = x.size(0);
        int t = x.size(1);
        Tensor[] held = state == null ? null : state.tensors();
        Variable qkv = inProj.forward(x); // (B, T, 3H)
        Variable q = qkv.narrow(2, 0, h);
        Variable k = qkv.narrow(2, h, h);
        Variable v = qkv.narrow(2, 2 * h, h);
        // the shift register: the W − 1 keys before this chunk (zeros at the start), then the chunk's keys
        Variable past = held == null ? OnDevice.zeros(x, b, taps - 1, h) : Variable.constant(held[2]);
        Variable keys = Variable.cat(1, past, k); // (B, W − 1 + T, H)
        Variable kBar = null;
        for (int j = 0; j < taps; j++) {
            Variable lag = keys.narrow(1, taps - 1 - j, t).mul(shiftKernel.select(1, j)); // s_j ⊙ K_{t−j}
            if (carry != null && j > 0) {
                lag = lag.mul(Variable.constant(sameDocument(carry, j).to(carry.device())));
            }
            kBar = kBar == null ? lag : kBar.add(lag);
        }
        Variable u = kBar.mul(v); // (B, T, H)
        if (!scan) { // the convolution view: K = 2·Re(Σ_n C_n B̄_n Ā_n^l), y = K ∗ u + D ⊙ u
            return outProj.forward(q.mul(S4d.convolution(u, S4d.kernel(logDt, logAReal, aImag, c, t)).add(u.mul(d))));
        }
        Variable[] z = DiagonalScan.zeroOrderHold(logAReal.exp().neg(), aImag, logDt.exp().unsqueeze(1));
        Variable u4 = u.unsqueeze(3); // (B, T, H, 1)
        Tensor[] xHeld = held == null ? null : new Tensor[] {held[0], held[1]};
        Variable[] s = DiagonalScan.scan(u4.mul(z[2]), u4.mul(z[3]), z[0], z[1], carry == null ? null : carry.unsqueeze(3), xHeld);
        if (state != null) {
            Tensor[] last = DiagonalScan.last(s);
            state.advance(new Tensor[] {last[0], last[1], keys.data().narrow(1, t, taps - 1).copy()}, t);
        }
        Variable ssm = s[0].mul(c.select(2, 0)).sub(s[1].mul(c.select(2, 1))).sum(3).mul(2).add(u.mul(d)); // (B, T, H)
        return outProj.forward(q.mul(ssm));
    }

    /** (B, T, 1): 1 where position t − lag is in t's document (no document start in (t − lag, t]), else 0. */
    private static Tensor sameDocument(Tensor carry, int lag) {
        int b = carry.size(0);
        int t = carry.size(1);
        double[] keep = new double[b * t];
        for (int r = 0; r < b; r++) {
            for (int p = 0; p < t; p++) {
                double same = p >= lag ? 1 : 0;
                for (int i = 0; i < lag && p - i >= 0 && same != 0; i++) {
                    same *= carry.getDouble(r, p - i, 0);
                }
                keep[r * t + p] = same;
            }
        }
        return Tensor.of(keep, b, t, 1).to(carry.dtype());
    }

    @Override
    public String toString() {
        return "H3(H=" + h + ", N=" + 2 * modes + ", W=" + taps + ", " + dtype + ")";
    }
}
