package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.ffn.Dextra;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * E6: the attention side of the DeLighT block (Mehta, Ghazvininejad, Iyer, Zettlemoyer, Hajishirzi
 * 2021, "DeLighT: Deep and Light-weight Transformer", ICLR, section 3.2 and Fig. 1): DExTra ({@link
 * Dextra}, shared with the FFN-slot {@code ffn.Delight}) maps the d_m-wide input to d_o = d_m/2, and
 * single-head causal attention over Q, K, V of width d_o follows, its output projected back to d_m:
 * <pre>
 * Dimensions: B batch, T time, C = d_m channels, D = d_o = ⌊d_m/2⌋.
 *
 *   H = DExTra(X)                                          (B, T, D)   {@code dextra.glt<l>_weight}, {@code dextra.glt<l>_bias}
 *   Q = H W_q + b_q,  K = H W_k + b_k,  V = H W_v + b_v     (B, T, D)   {@code q_proj}, {@code k_proj}, {@code v_proj}
 *   A = softmax(Q Kᵀ / √d_o + causal mask) V                (B, T, D)
 *   Y = A W_o + b_o                                         (B, T, C)   {@code out_proj}
 * </pre>
 * Block-wise scaling (section 3.3): options n_min ≥ 1 and n_max give layer b of B the DExTra depth
 * N^b and width multiplier w_m^b of {@link Dextra#depthAt} and {@link Dextra#widthMultAt} ({@link
 * Options#atLayer}, applied by the models from the layer index); n_min = 0 keeps {@code depth} in every
 * layer. The paper's whole block is this mixer with {@code --ffn delight --ffn-option depth=0} (the
 * light FFN alone); the model's block supplies the residuals and norms.
 *
 * <p>The attention is the core's causal {@link SoftmaxAttention} (one head of width d_o). Packed
 * documents: the model's document mask keeps each query within its document, so every document
 * starts afresh. Decoding: the {@link MixerState} holds the keys and values seen so far, K and V
 * (B, P, D) each; the T new queries attend to all P + T of them, so a token costs O(t), as
 * attention's KV cache does (this mixer has no O(1) state: it is attention). Departures: no position
 * signal inside the mixer (the paper adds absolute position embeddings at the input, which the models
 * offer as their positional option); no dropout.
 */
public final class DelightAttention extends Module implements TokenMixer {

    /**
     * @param depth N ≥ 1 GLT layers of DExTra (every layer's when block-wise scaling is off)
     * @param widthMult w_m ≥ 1, DExTra's d_max = w_m·d_m
     * @param maxGroups g_max, a power of two dividing d_m
     * @param nMin N_min of block-wise scaling (0: off)
     * @param nMax N_max of block-wise scaling (0 when off, else ≥ n_min)
     */
    public record Options(int depth, double widthMult, int maxGroups, int nMin, int nMax) {
        public Options {
            if (depth < 1 || !(widthMult >= 1) || Double.isInfinite(widthMult) || maxGroups < 1 || Integer.bitCount(maxGroups) != 1) {
                throw new IllegalArgumentException("mixer delight: need depth >= 1, width_mult >= 1 and max_groups a power of two, got depth="
                        + depth + " width_mult=" + widthMult + " max_groups=" + maxGroups);
            }
            if (nMin == 0 ? nMax != 0 : nMin < 1 || nMax < nMin) {
                throw new IllegalArgumentException("mixer delight: block-wise scaling needs 1 <= n_min <= n_max (n_min = n_max = 0 for off), got"
                        + " n_min=" + nMin + " n_max=" + nMax);
            }
        }

        /** Layer {@code layer}'s options of {@code layers} under block-wise scaling (its N^b and w_m^b, scaling then off); these when off. */
        public Options atLayer(int layer, int layers) {
            return nMin == 0 ? this : new Options(Dextra.depthAt(nMin, nMax, layer, layers),
                    Dextra.widthMultAt(widthMult, nMin, nMax, layer, layers), maxGroups, 0, 0);
        }
    }

    private final String who = "mixer delight";
    private final int dim;
    private final int inner;
    private final Options options;
    private final Dextra dextra;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear outProj;
    private final SoftmaxAttention attention = new SoftmaxAttention(); // scale 1/√d_o

    /** With {@code options} as given (a lone layer under block-wise scaling is block 0 of 1: N_min, w_m). */
    public DelightAttention(int dim, Options options, DType dtype, Generator g) {
        if (dim < 2) {
            throw new IllegalArgumentException(who + ": the width " + dim + " must be at least 2 (d_o = d_m/2)");
        }
        this.dim = dim;
        this.inner = dim / 2;
        this.options = options;
        Options o = options.atLayer(0, 1);
        dextra = child("dextra", new Dextra(who, dim, inner, o.depth(), o.widthMult(), o.maxGroups(), dtype, g));
        qProj = child("q_proj", Params.linear(inner, inner, true, g, dtype));
        kProj = child("k_proj", Params.linear(inner, inner, true, g, dtype));
        vProj = child("v_proj", Params.linear(inner, inner, true, g, dtype));
        outProj = child("out_proj", Params.linear(inner, dim, true, g, dtype));
    }

    public Options options() {
        return options;
    }

    /** The DExTra part (d_m → d_o). */
    public Dextra dextra() {
        return dextra;
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException(who + ": expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        TokenMixer.carry(who, mask, b, t, state, x); // one-line errors: a non-causal mask, document ids while decoding
        AttentionMask m = mask != null ? mask : AttentionMask.causalOnly();
        Variable h = dextra.forward(x); // (B, T, D)
        Variable q = qProj.forward(h); // (B, T, D)
        Variable k = kProj.forward(h);
        Variable v = vProj.forward(h);
        if (state == null) {
            return outProj.forward(attend(q, k, v, m)); // (B, T, C)
        }
        Tensor[] held = state.tensors();
        if (held != null) {
            k = Variable.cat(1, Variable.constant(held[0]), k); // (B, P+T, D)
            v = Variable.cat(1, Variable.constant(held[1]), v);
        }
        Variable y = outProj.forward(attend(q, k, v, m.forCachedKeys(t, k.size(1)))); // the T new queries over all P+T keys
        state.advance(new Tensor[] {k.data().contiguous(), v.data().contiguous()}, t);
        return Variable.constant(y.data());
    }

    /** One head: q (B, N, D) over k, v (B, S, D) → (B, N, D). */
    private Variable attend(Variable q, Variable k, Variable v, AttentionMask m) {
        int b = q.size(0);
        int n = q.size(1);
        int s = k.size(1);
        Variable o = attention.attend(q.reshape(b, 1, n, inner), k.reshape(b, 1, s, inner), v.reshape(b, 1, s, inner), m); // (B, 1, N, D)
        return o.reshape(b, n, inner);
    }

    @Override
    public String toString() {
        return "DelightAttention(C=" + dim + ", d_o=" + inner + ", N=" + dextra.depth() + ", widths=" + Arrays.toString(dextra.widths()) + ")";
    }
}
