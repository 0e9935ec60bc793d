package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E13: the Simple Recurrent Unit (Lei, Zhang, Wang, Dai, Artzi 2018, "Simple Recurrent Units for
 * Highly Parallelizable Recurrence", EMNLP), the 2018 form with the v ⊙ c_{t−1} peephole terms, as a
 * token mixer: all matrix work is one matmul over the whole sequence; only elementwise work is
 * sequential.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (the model width; the highway needs hidden = C).
 *
 *   x̃_t = W x_t,  and the gate inputs W_f x_t, W_r x_t: one matmul X Wᵀ, W = [W; W_f; W_r] (3C, C)
 *   f_t = σ(W_f x_t + v_f ⊙ c_{t−1} + b_f)
 *   r_t = σ(W_r x_t + v_r ⊙ c_{t−1} + b_r)
 *   c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ x̃_t,     c_{−1} = 0 (or the decoding state)
 *   h_t = r_t ⊙ c_t + (1 − r_t) ⊙ x_t            (highway)
 * </pre>
 *
 * Parameters: {@code weight} (3C, C), rows x̃, f, r stacked, N(0, 1/C); {@code v} (2C), rows v_f, v_r,
 * N(0, 1/C); {@code bias} (2C), b_f then b_r, b_f = {@code forget_bias}, b_r = 0.
 *
 * <p>Training: the v ⊙ c_{t−1} terms put c_{t−1} inside the sigmoids, so the recurrence is not linear
 * in c and cannot be a scan (the 2017 form without v could). It is a loop over time whose every step
 * is elementwise, vectorised over batch and channels: (B, 1, C) tensors, T small autograd steps. The
 * paper's speed comes from a fused CUDA kernel for this loop; here it is correctness first.
 * Decoding keeps c (B, 1, C) in the {@link MixerState}: O(1) per token. Packed training rows (the
 * mask's document ids) restart at each document's first token: c_{t−1} is taken as 0 there.
 *
 * <p>SRU++ (option {@code attention=true}; Lei 2021, "When Attention Meets Fast Recurrence: Training
 * Language Models with Reduced Compute", EMNLP, section 3) replaces the projection W x by a small
 * single-head attention sublayer of width d' ({@code attention_dim}, 0 → max(1, C/4)):
 *
 * <pre>
 *   Q = W_q X                       (B, T, d'),   W_q (d', C)
 *   K = W_k Q,  V = W_v Q           (B, T, d'),   W_k, W_v (d', d')  (computed from Q, as in the paper)
 *   A = softmax(Q Kᵀ / √d' + causal/document mask) V
 *   U = W_o (Q + α A)               (B, T, 3C): x̃, W_f x, W_r x above;  W_o (3C, d'), α a learned scalar
 * </pre>
 *
 * and the recurrence and highway above are unchanged (the highway still adds x). What this follows
 * of the paper: the equations above, the residual Q + α·A, keys and values from Q through the d'×d'
 * maps. What it leaves out: the paper's optional layer normalisation of Q + α A, its multi-head
 * variant and its choice of which layers get attention (here every SRU layer does); α starts at 1
 * (our choice). Parameters {@code q_proj} (d', C), {@code k_proj}, {@code v_proj} (d', d'),
 * {@code o_proj} (3C, d'), N(0, 1/fan_in), {@code alpha} (1), then {@code v} and {@code bias} as above;
 * there is no {@code weight}. Packed documents do not attend across their boundaries (the mask's
 * document ids). Decoding keeps c (B, 1, C) and the keys and values (B, t, d') in the state: the
 * attention is O(t) per token, the recurrence stays O(1).
 */
public final class Sru extends Module implements TokenMixer {

    /**
     * @param forgetBias the initial b_f (a positive value starts the cell remembering longer)
     * @param attention SRU++: the attention sublayer in place of the projection W x
     * @param attentionDim the attention width d' (0 → max(1, C/4)); only with attention
     */
    public record Options(double forgetBias, boolean attention, int attentionDim) {
        public Options {
            if (!Double.isFinite(forgetBias)) {
                throw new IllegalArgumentException("mixer sru: need a finite forget_bias, got forget_bias=" + forgetBias);
            }
            if (attentionDim < 0 || (attentionDim > 0 && !attention)) {
                throw new IllegalArgumentException("mixer sru: attention_dim must be >= 0 and needs attention=true, got attention="
                        + attention + " attention_dim=" + attentionDim);
            }
        }

        /** The 2018 SRU, without attention. */
        public Options(double forgetBias) {
            this(forgetBias, false, 0);
        }
    }

    private final int c;
    private final DType dtype;
    private final int d;
    private final Variable weight;
    private final Variable qProj;
    private final Variable kProj;
    private final Variable vProj;
    private final Variable oProj;
    private final Variable alpha;
    private final Variable v;
    private final Variable bias;

    /** An SRU over width {@code dim}, weights N(0, 1/C) from {@code g}. */
    public Sru(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer sru: width must be positive, got " + dim);
        }
        this.c = dim;
        this.dtype = dtype;
        this.d = !o.attention() ? 0 : o.attentionDim() > 0 ? o.attentionDim() : Math.max(1, dim / 4);
        if (d == 0) {
            weight = parameter("weight", Tensor.randn(g, dtype, 3 * c, c).mul(1 / Math.sqrt(c)));
            qProj = kProj = vProj = oProj = alpha = null;
        } else {
            weight = null;
            qProj = parameter("q_proj", Tensor.randn(g, dtype, d, c).mul(1 / Math.sqrt(c)));
            kProj = parameter("k_proj", Tensor.randn(g, dtype, d, d).mul(1 / Math.sqrt(d)));
            vProj = parameter("v_proj", Tensor.randn(g, dtype, d, d).mul(1 / Math.sqrt(d)));
            oProj = parameter("o_proj", Tensor.randn(g, dtype, 3 * c, d).mul(1 / Math.sqrt(d)));
            alpha = parameter("alpha", Tensor.full(1.0, dtype, 1));
        }
        v = parameter("v", Tensor.randn(g, dtype, 2 * c).mul(1 / Math.sqrt(c)));
        Tensor b = Tensor.zeros(dtype, 2 * c);
        if (o.forgetBias() != 0) {
            b = Tensor.cat(0, Tensor.full(o.forgetBias(), dtype, c), Tensor.zeros(dtype, c));
        }
        bias = parameter("bias", b);
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer sru: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer sru", mask, b, t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Tensor[] keysValues = new Tensor[2];
        Variable u = d == 0 ? x.matmul(weight.mT()) // (B, T, 3C): x̃, W_f x, W_r x for every t at once
                : attention(x, mask, held, keysValues); // (B, T, 3C): the same from the attention sublayer
        Variable vf = v.narrow(0, 0, c);
        Variable vr = v.narrow(0, c, c);
        Variable bf = bias.narrow(0, 0, c);
        Variable br = bias.narrow(0, c, c);
        Variable cell = held == null ? OnDevice.zeros(x, b, 1, c) : Variable.constant(held[0]);
        Variable[] hs = new Variable[t];
        for (int s = 0; s < t; s++) {
            Variable prev = carry == null ? cell : cell.mul(Variable.constant(carry.narrow(1, s, 1)));
            Variable us = u.narrow(1, s, 1);
            Variable f = us.narrow(2, c, c).add(prev.mul(vf)).add(bf).sigmoid();
            Variable r = us.narrow(2, 2 * c, c).add(prev.mul(vr)).add(br).sigmoid();
            cell = f.mul(prev).add(f.rsub(1).mul(us.narrow(2, 0, c)));
            hs[s] = r.mul(cell).add(r.rsub(1).mul(x.narrow(1, s, 1)));
        }
        if (state != null) {
            state.advance(d == 0 ? new Tensor[] {cell.data().copy()} : new Tensor[] {cell.data().copy(), keysValues[0], keysValues[1]}, t);
        }
        return t == 1 ? hs[0] : Variable.cat(1, hs);
    }

    /**
     * SRU++'s U = W_o (Q + α softmax(Q Kᵀ/√d') V) for the T new tokens, over the held keys and values
     * and the new ones (returned in {@code keysValues} for the state).
     */
    private Variable attention(Variable x, AttentionMask mask, Tensor[] held, Tensor[] keysValues) {
        int b = x.size(0);
        int t = x.size(1);
        Variable q = x.matmul(qProj.mT()); // (B, T, d')
        Variable k = q.matmul(kProj.mT()); // (B, T, d')
        Variable val = q.matmul(vProj.mT()); // (B, T, d')
        int past = held == null ? 0 : held[1].size(1);
        if (past > 0) {
            k = Variable.cat(1, Variable.constant(held[1]), k); // (B, S, d')
            val = Variable.cat(1, Variable.constant(held[2]), val); // (B, S, d')
        }
        keysValues[0] = k.data().copy();
        keysValues[1] = val.data().copy();
        int s = past + t;
        // causal over absolute positions; documents (training from zero only, checked by carry) kept apart
        AttentionMask m = new AttentionMask(true, mask == null || mask.documentIds() == null ? null : runs(mask.documentIds()), past);
        Tensor allowed = m.allowedMatrix(x.data().device(), b, t, s);
        Variable scores = q.matmul(k.mT()).mul(1 / Math.sqrt(d)) // (B, T, S)
                .maskedFill(allowed.reshape(allowed.size(0), t, s).logicalNot(), Double.NEGATIVE_INFINITY);
        Variable a = scores.softmax(-1).matmul(val); // (B, T, d')
        return q.add(a.mul(alpha)).matmul(oProj.mT()); // (B, T, 3C)
    }

    /**
     * Document ids renumbered as runs (B, T): a document starts wherever the id changes, as in
     * {@link TokenMixer#carry}, so two documents with the same id apart in a row stay apart.
     */
    private static Tensor runs(Tensor docs) {
        int b = docs.size(0);
        int t = docs.size(1);
        long[] ids = docs.toLongArray();
        long[] run = new long[b * t];
        for (int r = 0; r < b; r++) {
            for (int s = 1; s < t; s++) {
                run[r * t + s] = run[r * t + s - 1] + (ids[r * t + s] == ids[r * t + s - 1] ? 0 : 1);
            }
        }
        return Tensor.of(run, b, t);
    }

    @Override
    public String toString() {
        return d > 0 ? "Sru++(C=" + c + ", d'=" + d + ", " + dtype + ")" : "Sru(C=" + c + ", " + dtype + ")";
    }
}
