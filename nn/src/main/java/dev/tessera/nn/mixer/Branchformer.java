package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Locale;

/**
 * E19: the Branchformer layer (Peng, Dalmia, Lane, Watanabe 2022, "Branchformer: Parallel
 * MLP-Attention Architectures to Capture Local and Global Context for Speech Recognition and
 * Understanding", ICML): a global branch (multi-head self-attention) and a local branch (the
 * convolutional gating MLP, cgMLP) side by side on the same input, then merged.
 * <pre>
 * Dimensions: B batch, T time, C channels, F the cgMLP's hidden width (even), K the depthwise kernel.
 *
 *   Y_att = MHSA(LN_a(X))                                             (B, T, C)   {@code norm_mha}, {@code attn}
 *   Z = GELU(LN_m(X) U),  [Z₁, Z₂] = Z                                (B, T, F)   {@code norm_mlp}, {@code cgmlp.channel_proj1}
 *   Z̃ = Z₁ ⊙ (DWConv_K(LN(Z₂)) + b)                                   (B, T, F/2) {@code cgmlp.csgu.norm}, {@code cgmlp.csgu.conv}
 *   Y_mlp = Z̃ V                                                        (B, T, C)   {@code cgmlp.channel_proj2}
 *   merge=concat:   Y = W_m [Y_att ; Y_mlp]                             W_m (C, 2C) {@code merge_proj}
 *   merge=average:  Y = W_m (w_a Y_att + w_m Y_mlp),  (w_a, w_m) = softmax(θ)   θ (2) {@code merge_weights}, W_m (C, C)
 * </pre>
 * The depthwise convolution is per channel over time, DWConv_K(z)_t = Σ_{j&lt;K} w_j z_{t−j+s}:
 * centred (s = ⌊(K−1)/2⌋, zero padding) for the bidirectional form ({@code causal=false}, the
 * paper's, in BERT), and causal (s = 0) for the decoders, where the attention is causal too. The
 * model's block supplies the residual and its pre-norm; the two branch norms are the paper's.
 *
 * <p>Departures from the paper: its weighted-average merge derives the two weights from
 * attention-pooling each branch over the whole utterance, which would read the future in a causal
 * decoder; here they are two learned logits, softmax-normalised (the paper's "fixed" ablation
 * made learnable). The attention uses rotary position embeddings (relative, as the paper's
 * relative positional encoding, but not Transformer-XL's form), since the decoders have no other
 * position signal. Dropout is left out.
 *
 * <p>Packed documents and padding runs ({@link Segments}): the attention masks across them and the
 * convolution runs over each alone. Decoding ({@code causal=true}) holds every input seen so far,
 * (B, P, C): the new rows attend to all P + T held rows (keys and values recomputed from them, so
 * O(t) per token, as attention's KV cache is) and the convolution reads the last K − 1 of them.
 */
public final class Branchformer extends Module implements TokenMixer {

    /** The two merges. */
    public enum Merge { CONCAT, AVERAGE }

    /**
     * @param heads attention heads (divide C)
     * @param hidden F, the cgMLP's hidden width (even; 0: 6·C, the paper's 3072 for C = 512)
     * @param kernel K, the depthwise convolution's width (the paper's 31)
     * @param merge concat (the paper's best) or average
     * @param causal causal attention and convolution (decoders) or both ways (BERT)
     */
    public record Options(int heads, int hidden, int kernel, Merge merge, boolean causal) implements MixerKind.Directional {
        public Options {
            if (heads < 1 || hidden < 0 || hidden % 2 != 0 || kernel < 1 || merge == null) {
                throw new IllegalArgumentException("mixer branchformer: need heads >= 1, an even hidden >= 0, kernel >= 1 and a merge, got heads="
                        + heads + " hidden=" + hidden + " kernel=" + kernel + " merge=" + merge);
            }
        }
    }

    private final String who = "mixer branchformer";
    private final int dim;
    private final Options o;
    private final LayerNorm normMha;
    private final MultiHeadAttention attn;
    private final LayerNorm normMlp;
    private final dev.tessera.nn.Linear proj1;
    private final LayerNorm csguNorm;
    private final Variable convWeight;
    private final Variable convBias;
    private final dev.tessera.nn.Linear proj2;
    private final dev.tessera.nn.Linear mergeProj;
    private final Variable mergeWeights;

    /** A Branchformer layer over width {@code dim}, initialised from {@code g}. */
    public Branchformer(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0 || dim % o.heads() != 0) {
            throw new IllegalArgumentException(who + ": " + o.heads() + " heads do not divide the width " + dim);
        }
        this.dim = dim;
        this.o = o;
        int f = o.hidden() == 0 ? 6 * dim : o.hidden();
        normMha = child("norm_mha", new LayerNorm(dim, 1e-5, true, true, dtype));
        attn = child("attn", new MultiHeadAttention(new MultiHeadAttention.Config(dim, o.heads(), o.heads(), dim / o.heads(), true,
                RotaryEmbedding.Convention.HALF_SPLIT, 10000, 512, null, 1e-6, 0, 0, dtype, AttentionKind.SOFTMAX), g));
        normMlp = child("norm_mlp", new LayerNorm(dim, 1e-5, true, true, dtype));
        Group cgmlp = child("cgmlp", new Group());
        proj1 = cgmlp.add("channel_proj1", Params.linear(dim, f, true, g, dtype));
        Group csgu = cgmlp.add("csgu", new Group());
        csguNorm = csgu.add("norm", new LayerNorm(f / 2, 1e-5, true, true, dtype));
        Group conv = csgu.add("conv", new Group());
        double bound = 1 / Math.sqrt(o.kernel()); // PyTorch's Conv1d init for groups = channels: fan-in K
        convWeight = conv.add("weight", Tensor.rand(g, dtype, f / 2, o.kernel()).mul(2 * bound).sub(bound)); // (F/2, K)
        convBias = conv.add("bias", Tensor.rand(g, dtype, f / 2).mul(2 * bound).sub(bound)); // (F/2)
        proj2 = cgmlp.add("channel_proj2", Params.linear(f / 2, dim, true, g, dtype));
        mergeProj = child("merge_proj", Params.linear(o.merge() == Merge.CONCAT ? 2 * dim : dim, dim, true, g, dtype));
        mergeWeights = o.merge() == Merge.AVERAGE ? parameter("merge_weights", Tensor.zeros(dtype, 2)) : null;
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, o.causal(), x, dim, mask, state);
        AttentionMask m = mask != null ? mask : o.causal() ? AttentionMask.causalOnly() : AttentionMask.NONE;
        if (state == null) {
            Variable ha = normMha.forward(x);
            return merge(attn.forward(ha, ha, m, null), s.eachRun(normMlp.forward(x), this::cgmlp)); // (B, T, C)
        }
        Tensor[] held = state.tensors();
        int t = x.size(1);
        Variable all = held == null ? x : Variable.cat(1, Variable.constant(held[0]), x); // (B, P+T, C)
        int p = all.size(1) - t;
        Variable yAtt = attn.forward(normMha.forward(x), normMha.forward(all), m, null); // the T new queries over all P+T keys
        int w = Math.min(p, o.kernel() - 1) + t; // the convolution reads K − 1 rows back
        Variable yMlp = cgmlp(normMlp.forward(all.narrow(1, p + t - w, w))).narrow(1, w - t, t);
        state.advance(new Tensor[] {all.data().contiguous()}, t);
        return Variable.constant(merge(yAtt, yMlp).data());
    }

    /** The cgMLP on z (B, L, C) of one run (or whole rows): (B, L, C). */
    private Variable cgmlp(Variable z) {
        Variable h = proj1.forward(z).gelu(); // (B, L, F)
        int half = h.size(2) / 2;
        Variable gate = csguNorm.forward(h.narrow(2, half, half)); // (B, L, F/2)
        return proj2.forward(h.narrow(2, 0, half).mul(depthwise(gate).add(convBias))); // (B, L, C)
    }

    /** DWConv_K over time of z (B, L, F/2): causal, or centred through a causal convolution of z padded by s zeros after it. */
    private Variable depthwise(Variable z) {
        int l = z.size(1);
        int shift = o.causal() ? 0 : (o.kernel() - 1) / 2;
        Variable in = shift == 0 ? z : Variable.cat(1, z, OnDevice.zeros(z, z.size(0), shift, z.size(2)));
        return in.transpose(1, 2).causalConv(convWeight).transpose(1, 2).narrow(1, shift, l); // (B, L, F/2)
    }

    private Variable merge(Variable yAtt, Variable yMlp) {
        if (o.merge() == Merge.CONCAT) {
            return mergeProj.forward(Variable.cat(2, yAtt, yMlp));
        }
        Variable w = mergeWeights.softmax(0);
        return mergeProj.forward(yAtt.mul(w.narrow(0, 0, 1)).add(yMlp.mul(w.narrow(0, 1, 1))));
    }

    @Override
    public String toString() {
        return "Branchformer(C=" + dim + ", heads=" + o.heads() + ", F=" + proj1.outFeatures() + ", K=" + o.kernel() + ", "
                + o.merge().name().toLowerCase(Locale.ROOT) + (o.causal() ? ", causal" : "") + ")";
    }
}
