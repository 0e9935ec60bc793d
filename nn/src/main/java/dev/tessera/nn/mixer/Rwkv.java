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
 * E12 (time mix): RWKV-4's time mixing (Peng et al. 2023, "RWKV: Reinventing RNNs for the
 * Transformer Era", EMNLP Findings, §3.2), as a token mixer: token shift, then the WKV operator, a
 * per-channel softmax over the past with an exponential decay in distance and a bonus for the
 * current token, gated by the receptance.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (the model width), A = C attention channels.
 *
 *   x'_t = x_{t−1} (token shift; 0 at t = 0 or a document start, the last token of the state when decoding)
 *   k_t = W_k (μ_k ⊙ x_t + (1 − μ_k) ⊙ x'_t),  v_t = W_v (μ_v ⊙ …),  r_t = σ(W_r (μ_r ⊙ …))     (B, T, A)
 *   w = exp(time_decay),  u = time_first                                                     (A)
 *   wkv_t = (Σ_{i&lt;t} e^{−(t−1−i)w + k_i} v_i + e^{u + k_t} v_t) / (Σ_{i&lt;t} e^{−(t−1−i)w + k_i} + e^{u + k_t})
 *   out_t = W_o (r_t ⊙ wkv_t)                                                               (B, T, C)
 * </pre>
 *
 * Training runs the parallel form: wkv_t is a softmax over i ≤ t, per channel, of the logits
 * k_i − (t−1−i)w (i &lt; t) and u + k_t (i = t), so it is stable by construction, O(T²·A) memory (the
 * paper's CUDA kernel runs the recurrence instead). Decoding runs the recurrence with the
 * numerically stable running maximum of the reference code (transformers'
 * {@code rwkv_linear_attention_cpu}): the state holds (num, den, p) with the true sums num·e^p and
 * den·e^p, plus the last input for the token shift, all (B, 1, ·): O(1) per token. Packed training
 * rows (the mask's document ids) restart both the shift and the sums at each document's first
 * token.
 *
 * <p>Parameter names are Hugging Face's {@code RwkvSelfAttention} ({@code time_decay},
 * {@code time_first}, {@code time_mix_key}, {@code time_mix_value}, {@code time_mix_receptance},
 * {@code key}, {@code value}, {@code receptance}, {@code output}). Initialisation follows its
 * {@code _init_weights} for a layer in the middle of the stack (ratio_0_to_1 = ratio_1_to_almost0 =
 * ½: a mixer is made without its layer index): decay −5 + 8·(a/(A−1))^{0.7+1.3·½}, bonus
 * log 0.3 + zigzag, μ = (c/C)^{½} (key), + 0.15 (value), (c/C)^{¼} (receptance); the projections
 * N(0, 1/C). The channel mix (the feed-forward half of an RWKV block) is {@link RwkvChannelMix}.
 */
public final class Rwkv extends Module implements TokenMixer {

    /** The time mix has no options: its width is the model's. */
    public record Options() {}

    private final int c;
    private final DType dtype;
    private final Variable timeDecay;
    private final Variable timeFirst;
    private final Variable mixKey;
    private final Variable mixValue;
    private final Variable mixReceptance;
    private final Linear key;
    private final Linear value;
    private final Linear receptance;
    private final Linear output;

    /** An RWKV-4 time mix over width {@code dim}, initialised as described above from {@code g}. */
    public Rwkv(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer rwkv: width must be positive, got " + dim);
        }
        this.c = dim;
        this.dtype = dtype;
        double[] decay = new double[c];
        double[] first = new double[c];
        double[] mk = new double[c];
        double[] mv = new double[c];
        double[] mr = new double[c];
        for (int a = 0; a < c; a++) {
            decay[a] = -5 + 8 * Math.pow(c == 1 ? 0 : a / (c - 1.0), 0.7 + 1.3 * 0.5);
            first[a] = Math.log(0.3) + ((a + 1) % 3 - 1) * 0.5;
            double weight = (double) a / c;
            mk[a] = Math.pow(weight, 0.5);
            mv[a] = Math.pow(weight, 0.5) + 0.3 * 0.5;
            mr[a] = Math.pow(weight, 0.25);
        }
        timeDecay = parameter("time_decay", Tensor.of(decay, c).to(dtype));
        timeFirst = parameter("time_first", Tensor.of(first, c).to(dtype));
        mixKey = parameter("time_mix_key", Tensor.of(mk, 1, 1, c).to(dtype));
        mixValue = parameter("time_mix_value", Tensor.of(mv, 1, 1, c).to(dtype));
        mixReceptance = parameter("time_mix_receptance", Tensor.of(mr, 1, 1, c).to(dtype));
        key = child("key", projection(c, c, dtype, g));
        value = child("value", projection(c, c, dtype, g));
        receptance = child("receptance", projection(c, c, dtype, g));
        output = child("output", projection(c, c, dtype, g));
    }

    static Linear projection(int in, int out, DType dtype, Generator g) {
        return new Linear(in, out, false, Tensor.randn(g, dtype, out, in).mul(1 / Math.sqrt(in)));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        check(x);
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer rwkv", mask, b, t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Variable shifted = tokenShift(x, carry, held == null ? null : held[0]); // (B, T, C)
        Variable k = key.forward(lerp(x, shifted, mixKey)); // (B, T, A)
        Variable v = value.forward(lerp(x, shifted, mixValue));
        Variable r = receptance.forward(lerp(x, shifted, mixReceptance)).sigmoid();
        Variable wkv;
        if (state == null) {
            wkv = parallel(k, v, carry);
        } else {
            Variable[] s = held == null ? null : new Variable[] {Variable.constant(held[1]), Variable.constant(held[2]), Variable.constant(held[3])};
            Variable[] run = recurrent(k, v, s);
            wkv = run[0];
            state.advance(new Tensor[] {x.data().narrow(1, t - 1, 1).copy(), run[1].data().copy(), run[2].data().copy(), run[3].data().copy()}, t);
        }
        return output.forward(r.mul(wkv));
    }

    /** The recurrent form from the zero state, kept in the graph (for the tests: equal to {@link #forward}, differentiable). */
    public Variable recurrence(Variable x) {
        check(x);
        Variable shifted = tokenShift(x, null, null);
        Variable k = key.forward(lerp(x, shifted, mixKey));
        Variable v = value.forward(lerp(x, shifted, mixValue));
        Variable r = receptance.forward(lerp(x, shifted, mixReceptance)).sigmoid();
        return output.forward(r.mul(recurrent(k, v, null)[0]));
    }

    /** wkv (B, T, A) as a per-channel causal softmax over (B, T, T, A) logits, within documents where {@code carry} marks starts. */
    private Variable parallel(Variable k, Variable v, Tensor carry) {
        int b = k.size(0);
        int t = k.size(1);
        double[] dist = new double[t * t];
        double[] diag = new double[t * t];
        for (int q = 0; q < t; q++) {
            for (int i = 0; i < q; i++) {
                dist[q * t + i] = q - 1 - i;
            }
            diag[q * t + q] = 1;
        }
        Variable w = timeDecay.exp(); // (A)
        Variable bias = OnDevice.constant(Tensor.of(dist, t, t, 1), k).mul(w.neg())
                .add(OnDevice.constant(Tensor.of(diag, t, t, 1), k).mul(timeFirst)); // (T, T, A)
        Variable logits = k.unsqueeze(1).add(bias).maskedFill(OnDevice.of(hidden(carry, b, t), k), Double.NEGATIVE_INFINITY); // (B, T, T, A)
        return logits.softmax(2).mul(v.unsqueeze(1)).sum(2); // (B, T, A)
    }

    /** BOOL (B or 1, T, T, 1): true where position i is after t or in an earlier document than t (documents start where carry is 0). */
    private static Tensor hidden(Tensor carry, int b, int t) {
        int rows = carry == null ? 1 : b;
        byte[] m = new byte[rows * t * t];
        for (int r = 0; r < rows; r++) {
            int start = 0;
            for (int q = 0; q < t; q++) {
                if (carry != null && carry.getDouble(r, q, 0) == 0) {
                    start = q;
                }
                for (int i = 0; i < t; i++) {
                    m[(r * t + q) * t + i] = (byte) (i > q || i < start ? 1 : 0);
                }
            }
        }
        return Tensor.of(dev.tessera.tensor.Storage.wrap(DType.BOOL, m), rows, t, t, 1);
    }

    /**
     * The stable recurrence over k, v (B, T, A) from {@code s} = {num, den, p} (B, 1, A) or null (the
     * zero state); {wkv (B, T, A), num, den, p} after the last step.
     */
    private Variable[] recurrent(Variable k, Variable v, Variable[] s) {
        int t = k.size(1);
        Variable w = timeDecay.exp(); // (A)
        Variable num = s == null ? OnDevice.zeros(k, k.size(0), 1, k.size(2)) : s[0];
        Variable den = s == null ? num : s[1];
        Variable p = s == null ? OnDevice.constant(Tensor.full(-1e38, k.dtype(), k.size(0), 1, k.size(2)), k) : s[2];
        Variable[] out = new Variable[t];
        for (int i = 0; i < t; i++) {
            Variable kt = k.narrow(1, i, 1);
            Variable vt = v.narrow(1, i, 1);
            Variable ukt = kt.add(timeFirst);
            Variable q = p.maximum(ukt);
            Variable e1 = p.sub(q).exp();
            Variable e2 = ukt.sub(q).exp();
            out[i] = e1.mul(num).add(e2.mul(vt)).div(e1.mul(den).add(e2));
            Variable decayed = p.sub(w);
            Variable q2 = decayed.maximum(kt);
            Variable f1 = decayed.sub(q2).exp();
            Variable f2 = kt.sub(q2).exp();
            num = f1.mul(num).add(f2.mul(vt));
            den = f1.mul(den).add(f2);
            p = q2;
        }
        return new Variable[] {t == 1 ? out[0] : Variable.cat(1, out), num, den, p};
    }

    /**
     * x delayed by one step along time (B, T, C): {@code last} (B, 1, C) or zeros in front, and zero at
     * the document starts that {@code carry} (B, T, 1) marks.
     */
    static Variable tokenShift(Variable x, Tensor carry, Tensor last) {
        int t = x.size(1);
        Variable first = Variable.constant(last != null ? last : Tensor.zeros(x.data().device(), x.dtype(), x.size(0), 1, x.size(2)));
        Variable shifted = t == 1 ? first : Variable.cat(1, first, x.narrow(1, 0, t - 1));
        return carry == null ? shifted : shifted.mul(Variable.constant(carry));
    }

    /** μ ⊙ x + (1 − μ) ⊙ x': the token-shift interpolation. */
    static Variable lerp(Variable x, Variable shifted, Variable mu) {
        return x.mul(mu).add(shifted.mul(mu.rsub(1)));
    }

    private void check(Variable x) {
        MixerInput.check("mixer rwkv", x, c);
    }

    @Override
    public String toString() {
        return "Rwkv(C=" + c + ", " + dtype + ")";
    }
}
