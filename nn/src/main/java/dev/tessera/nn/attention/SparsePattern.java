package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;

/**
 * Which keys a query sees under a fixed, position-only sparse pattern: the one place the strided
 * and fixed patterns (B6, {@link SparseTransformerAttention}), LongNet's dilated segments (B7,
 * {@link DilatedAttention}) and BlockBERT's permuted blocks (B8, {@link BlockwiseAttention}) are
 * turned into attention. A pattern gives, for head h, query position i and key position j, a count
 * c_h(i, j) ≥ 0: 0 hides the key, 1 shows it, and more than 1 counts it that many times, which is
 * how a mixture of patterns whose softmaxes are weighted by their denominators (LongNet) collapses
 * into one softmax:
 * <pre>
 *   out_i = Σ_j c(i, j) exp(s_ij) v_j / Σ_j c(i, j) exp(s_ij),   s_ij = q_i·k_j / √D
 *         = softmax_j(s_ij + ln c(i, j)) v_j                     (over the keys with c &gt; 0 that the mask allows)
 * </pre>
 * The {@link AttentionMask} (causal, A9 documents) is intersected with the pattern; query t sits at
 * position queryOffset + t and key s at s, so the same pattern applies when decoding with a KV
 * cache that keeps every key. A query that sees no key gets a zero row.
 *
 * <p>Cost: the full T×S scores are computed and the pattern only masks them (the sparsity is in the
 * weights, not the work), which is exact and simple; block-sparse kernels that skip the hidden
 * blocks are a speed-up left for later.
 */
@FunctionalInterface
public interface SparsePattern {

    /**
     * How many times query position i sees key position j in head h, with S keys in all (blockwise
     * attention sizes its blocks from S).
     */
    int count(int head, int i, int j, int keys);

    /**
     * Attention of q (B, H, T, D) over k, v (B, H, S, ·) under this pattern and the mask; {@code op}
     * names the kernel in errors.
     */
    default Variable attend(String op, Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes(op, q, k, v, mask);
        int heads = q.size(1);
        int t = q.size(2);
        int s = k.size(2);
        int[] counts = counts(mask, q.size(0), heads, t, s); // (B or 1, H, T, S)
        int rows = counts.length / (heads * t * s);
        byte[] allowed = new byte[counts.length];
        boolean repeated = false;
        for (int n = 0; n < counts.length; n++) {
            allowed[n] = (byte) (counts[n] > 0 ? 1 : 0);
            repeated |= counts[n] > 1;
        }
        double alpha = LogitScale.inverseSqrt(q.size(-1));
        Variable scores = q.matmul(k.mT()); // (B, H, T, S)
        if (repeated) { // ln c added before the fused softmax, which scales by α: so ln c / α here
            double[] bias = new double[counts.length];
            for (int n = 0; n < counts.length; n++) {
                bias[n] = counts[n] > 1 ? Math.log(counts[n]) / alpha : 0;
            }
            scores = scores.add(Variable.constant(Tensor.of(bias, rows, heads, t, s).to(scores.dtype())));
        }
        Tensor mask01 = Tensor.of(Storage.wrap(DType.BOOL, allowed), rows, heads, t, s);
        Variable p = new MaskedSoftmaxFunction(mask01, alpha).call(scores); // (B, H, T, S)
        return p.matmul(v); // (B, H, T, Dv)
    }

    /** c_h(i, j) for every (batch row, head, query, key), zero where the mask hides the key: (B or 1, H, T, S) flat. */
    default int[] counts(AttentionMask mask, int batch, int heads, int queries, int keys) {
        int rows = mask.documentIds() == null ? 1 : batch;
        int[] c = new int[rows * heads * queries * keys];
        for (int b = 0; b < rows; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < queries; t++) {
                    int i = mask.queryOffset() + t;
                    int off = ((b * heads + h) * queries + t) * keys;
                    for (int j = 0; j < keys; j++) {
                        if (mask.allowed(b, t, j, queries, keys)) {
                            c[off + j] = count(h, i, j, keys);
                        }
                    }
                }
            }
        }
        return c;
    }
}
