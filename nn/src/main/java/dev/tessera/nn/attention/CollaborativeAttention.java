package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Collaborative multi-head attention (B15, second half), after Cordonnier, Loukas and Jaggi,
 * "Multi-Head Attention: Collaborate Instead of Concatenate", arXiv 2006.16362, 2020: heads that
 * each project queries and keys on their own learn redundant projections; instead all heads share
 * one query and one key projection W̃_Q, W̃_K (width D̃) and each head only re-weights the shared
 * dimensions with its own mixing vector m_h:
 * <pre>
 *   q̃_t = x_t·W̃_Q,  k̃_j = x_j·W̃_K                           (D̃ = H·D, shared by all heads)
 *   score_h(t, j) = Σ_c q̃_t[c] · m_h[c] · k̃_j[c] / √D          = q̃_t diag(m_h) k̃_jᵀ / √D
 *   out_h,t = Σ_j softmax_j(score_h(t, ·) + mask) · v_h,j
 * </pre>
 *
 * The shared projections are the attention module's own q_proj and k_proj: the kernel sees them
 * split into heads and concatenates them back (q̃ = [q_1, …, q_H], likewise k̃; with grouped-query
 * heads k̃ holds each KV head repeated), so D̃ = H·D here; the paper's point that D̃ can be smaller
 * than H·D is a choice of projection width this seam does not offer. The mixing matrix
 * {@code mixing} (H, H·D) starts with m_h the indicator of head h's own D dimensions, which is the
 * paper's observation that concatenated heads are the special case of a block-diagonal M: training
 * starts from standard multi-head attention and can then let heads share dimensions. The scale is
 * 1/√D as for standard heads. Scores pair one query with one key, so decoding with a KV cache gives
 * the full sequence's rows.
 */
public final class CollaborativeAttention extends Module implements AttentionKernel {
    private final int heads;
    private final int headDim;
    private final Variable mixing;

    /** @param heads H; @param headDim D; {@code mixing} (H, H·D) starts block-diagonal (standard heads) */
    public CollaborativeAttention(int heads, int headDim) {
        if (heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("CollaborativeAttention: heads and headDim must be positive, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        float[] m = new float[heads * heads * headDim];
        for (int h = 0; h < heads; h++) {
            java.util.Arrays.fill(m, h * heads * headDim + h * headDim, h * heads * headDim + (h + 1) * headDim, 1f);
        }
        this.mixing = parameter("mixing", Tensor.of(m, heads, heads * headDim));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("CollaborativeAttention", q, k, v, mask, heads, headDim);
        return attend(q, k, v, mixing.to(q.dtype()), mask);
    }

    /** The kernel as a function of the mixing matrix (H, H·D) in the inputs' dtype, so its gradient can be checked like any input's. */
    public static Variable attend(Variable q, Variable k, Variable v, Variable mixing, AttentionMask mask) {
        KernelSupport.checkShapes("CollaborativeAttention", q, k, v, mask);
        int b = q.size(0);
        int h = q.size(1);
        int t = q.size(2);
        int d = q.size(3);
        int s = k.size(2);
        if (mixing.rank() != 2 || mixing.size(0) != h || mixing.size(1) != h * d) {
            throw new IllegalArgumentException("CollaborativeAttention: mixing must be (" + h + ", " + h * d + "), got "
                    + java.util.Arrays.toString(mixing.shape()));
        }
        Variable qShared = q.transpose(1, 2).reshape(b, 1, t, h * d); // (B, 1, T, D̃): q̃
        Variable kShared = k.transpose(1, 2).reshape(b, 1, s, h * d); // (B, 1, S, D̃): k̃
        Variable qMixed = qShared.mul(mixing.reshape(1, h, 1, h * d)); // (B, H, T, D̃): q̃ diag(m_h)
        Variable scores = LogitScale.apply(qMixed.matmul(kShared.mT()), LogitScale.inverseSqrt(d)); // (B, H, T, S)
        return KernelSupport.maskScores(scores, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }
}
