package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;

/**
 * Normalised attention without the probability cage (B29, second half), after Richter and
 * Wattenhofer, "Normalized Attention Without Probability Cage", arXiv 2005.09561, 2020: softmax
 * weights are confined to the probability simplex, so every output lies in the convex hull of the
 * values (the "cage"), and at initialisation a query mostly attends to itself; the paper replaces
 * the softmax by a normalisation of each query's scores over its keys, giving weights that can be
 * negative and need not sum to one:
 * <pre>
 *   s_ij  = q_i · k_j / √D                          over the n_i keys j that query i may see
 *   μ_i   = Σ_j s_ij / n_i,   σ_i² = Σ_j (s_ij − μ_i)² / n_i
 *   a_ij  = (s_ij − μ_i) / √(σ_i² + ε)              (ε = 1e-5; a_ij = 0 where the mask forbids)
 *   out_i = Σ_j a_ij v_j
 * </pre>
 *
 * The normalisation is LayerNorm's over the allowed keys, without gain or bias, and with the
 * population variance; the 1/√D scale only matters against ε. Each row's weights sum to 0 and
 * their squares to n_i·σ_i²/(σ_i² + ε). A query that sees a single key (the first causal position)
 * gets all-zero weights and a zero output. Each row uses only its own allowed keys, so the kernel
 * is causal under a causal mask and decoding with a KV cache gives the full sequence's rows.
 * There are no parameters.
 */
public final class NormalizedAttention implements AttentionKernel {
    /** ε under the square root, LayerNorm's usual 1e-5. */
    public static final double EPS = 1e-5;

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("NormalizedAttention", q, k, v, mask);
        int b = q.size(0);
        int t = q.size(2);
        int s = k.size(2);
        Variable scores = LogitScale.apply(q.matmul(k.mT()), LogitScale.inverseSqrt(q.size(3))); // (B, H, T, S)
        if (!mask.masksAnything()) {
            Variable centred = scores.sub(scores.mean(true, -1)); // (B, H, T, S)
            return normalise(centred, centred.square().mean(true, -1)).matmul(v); // (B, H, T, Dv)
        }
        Tensor allowedMatrix = mask.allowedMatrix(q.data().device(), b, t, s); // (B or 1, 1, T, S)
        Variable allowed = Variable.constant(allowedMatrix.to(q.dtype()));
        Variable count = allowed.sum(true, -1); // (B or 1, 1, T, 1): n_i ≥ 1 under causal and document masks
        Variable masked = scores.mul(allowed);
        Variable centred = masked.sub(masked.sum(true, -1).div(count)).mul(allowed); // (B, H, T, S), 0 where forbidden
        return normalise(centred, centred.square().sum(true, -1).div(count)).matmul(v); // (B, H, T, Dv)
    }

    private static Variable normalise(Variable centred, Variable variance) {
        return centred.mul(variance.add(EPS).rsqrt());
    }
}
