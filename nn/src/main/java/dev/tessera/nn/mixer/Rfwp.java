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
 * E25: the Recurrent Delta Net, a recurrent fast weight programmer (Irie, Schlag, Csordás,
 * Schmidhuber 2021, "Going Beyond Linear Transformers with Recurrent Fast Weight Programmers",
 * NeurIPS, §3), as a token mixer: a slow network writes a fast weight matrix per head with the delta
 * rule, and, unlike the DeltaNet attention kind, its queries, keys, values and learning rates also
 * read the layer's previous output y_{t−1}.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, H heads, D = C/H head size.
 *
 *   [q_t, k_t, v_t, β̃_t] = W_slow x_t + R tanh(y_{t−1})       (B, 1, 3C + H), y_{−1} = 0, R per head:
 *                                                              head h's q, k, v, β̃ read head h's y only
 *   φ(·) = softmax over each head's D entries;   β_t = σ(β̃_t)  (one learning rate per head)
 *   v̄_t = W_{t−1} φ(k_t)                                        (retrieve the value now stored under the key)
 *   W_t = W_{t−1} + β_t (v_t − v̄_t) ⊗ φ(k_t)                   (B, H, D, D), W_{−1} = 0   (delta rule)
 *   y_t = W_t φ(q_t)                                            (B, T, C) heads concatenated
 *   out_t = W_o y_t
 * </pre>
 *
 * Only the sequential form exists: y_{t−1} enters the slow network, so step t needs step t−1's
 * output and no scan or chunked parallel form applies (the paper trains it step by step too). The
 * input half W_slow x_t is one matmul over the sequence; each step is a few (B, H, D, D) products.
 * Decoding keeps W (B, H, D, D) and y_{t−1} (B, 1, C) in the {@link MixerState}: O(1) per token.
 * Packed training rows (the mask's document ids) restart both at each document's first token.
 * φ is the softmax (the paper's Delta Net variants normalise φ to sum 1, which keeps the delta rule
 * stable with β ≤ 1). These are the authors' reference equations (IDSIA/recurrent-fwp, the PyTorch
 * loop that checks their {@code rec_update_fwm_tanh} kernel: tanh of the previous output through
 * per-head recurrent matrices, softmax on q and k, sigmoid β). Parameters: {@code slow_net.weight}
 * (3C + H, C) rows q, k, v, β̃; {@code recurrent} (H, D, 3D + 1) columns q, k, v, β̃, initialised
 * at a tenth of the slow net's scale; {@code out_proj.weight} (C, C); no biases. The delta-rule part ({@link #deltaRule}) is checked against flash-linear-attention's
 * {@code delta_rule_recurrence}.
 */
public final class Rfwp extends Module implements TokenMixer {

    /** @param heads H; 0 means one head per 8 channels (at least one) */
    public record Options(int heads) {
        public Options {
            if (heads < 0) {
                throw new IllegalArgumentException("mixer rfwp: need heads >= 0, got heads=" + heads);
            }
        }
    }

    private final int c;
    private final int h;
    private final int hs;
    private final Linear slow;
    private final Variable recurrent;
    private final Linear out;

    /** A recurrent delta net over width {@code dim}. */
    public Rfwp(int dim, Options o, DType dtype, Generator g) {
        int heads = o.heads() == 0 ? Math.max(1, dim / 8) : o.heads();
        if (dim <= 0 || dim % heads != 0) {
            throw new IllegalArgumentException("mixer rfwp: width " + dim + " must be a positive multiple of heads " + heads);
        }
        this.c = dim;
        this.h = heads;
        this.hs = dim / heads;
        slow = child("slow_net", Rwkv.projection(c, 3 * c + h, dtype, g));
        recurrent = parameter("recurrent", Tensor.randn(g, dtype, h, hs, 3 * hs + 1).mul(0.1 / Math.sqrt(hs)));
        out = child("out_proj", Rwkv.projection(c, c, dtype, g));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        MixerInput.check("mixer rfwp", x, c);
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer rfwp", mask, b, t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Variable fast = held == null ? OnDevice.zeros(x, b, h, hs, hs) : Variable.constant(held[0]); // (B, H, D, D)
        Variable y = held == null ? OnDevice.zeros(x, b, 1, c) : Variable.constant(held[1]); // (B, 1, C)
        Variable fromX = slow.forward(x); // (B, T, 3C + H): the input half for every step at once
        Variable[] ys = new Variable[t];
        for (int s = 0; s < t; s++) {
            if (carry != null) { // a document starts: forget the fast weights and the previous output
                Variable keep = Variable.constant(carry.narrow(1, s, 1)); // (B, 1, 1)
                fast = fast.mul(keep.unsqueeze(3));
                y = y.mul(keep);
            }
            Variable z = fromX.narrow(1, s, 1); // (B, 1, 3C + H)
            Variable r = y.tanh().reshape(b, h, 1, hs).matmul(recurrent).reshape(b, h, 3 * hs + 1); // (B, H, 3D + 1) per head
            Variable q = heads(z.narrow(2, 0, c)).add(r.narrow(2, 0, hs)).softmax(2); // (B, H, D)
            Variable k = heads(z.narrow(2, c, c)).add(r.narrow(2, hs, hs)).softmax(2);
            Variable v = heads(z.narrow(2, 2 * c, c)).add(r.narrow(2, 2 * hs, hs));
            Variable beta = z.narrow(2, 3 * c, h).reshape(b, h, 1).add(r.narrow(2, 3 * hs, 1)).sigmoid(); // (B, H, 1)
            fast = write(fast, k, v, beta);
            y = read(fast, q).reshape(b, 1, c);
            ys[s] = y;
        }
        if (state != null) {
            state.advance(new Tensor[] {fast.data().copy(), y.data().copy()}, t);
        }
        return out.forward(t == 1 ? ys[0] : Variable.cat(1, ys));
    }

    /** (B, 1, C) → (B, H, D). */
    private Variable heads(Variable z) {
        return z.reshape(z.size(0), h, hs);
    }

    /** The delta rule: W + β (v − W k) ⊗ k for W (B, H, D, D), k, v (B, H, D), β (B, H, 1). */
    static Variable write(Variable fast, Variable k, Variable v, Variable beta) {
        Variable old = read(fast, k); // (B, H, D) v̄ = W k
        return fast.add(v.sub(old).mul(beta).unsqueeze(3).mul(k.unsqueeze(2)));
    }

    /** W q for W (B, H, D, D) and q (B, H, D): (B, H, D). */
    static Variable read(Variable fast, Variable q) {
        return fast.matmul(q.unsqueeze(3)).squeeze(3);
    }

    /**
     * The delta-rule recurrence alone (no y feedback) over q, k, v (B, H, T, D) and β (B, H, T) from
     * W_{−1} = 0: y_t = W_t q_t (B, H, T, D), with the same {@link #write} and {@link #read} as the
     * mixer; for the check against the DeltaNet reference.
     */
    static Variable deltaRule(Variable q, Variable k, Variable v, Variable beta) {
        int t = q.size(2);
        Variable fast = OnDevice.zeros(q, q.size(0), q.size(1), v.size(3), k.size(3));
        Variable[] ys = new Variable[t];
        for (int s = 0; s < t; s++) {
            fast = write(fast, k.select(2, s), v.select(2, s), beta.narrow(2, s, 1));
            ys[s] = read(fast, q.select(2, s)).unsqueeze(2);
        }
        return Variable.cat(2, ys);
    }

    @Override
    public String toString() {
        return "Rfwp(C=" + c + ", H=" + h + ")";
    }
}
