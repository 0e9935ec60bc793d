package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
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
 * <p>Cost: by default the full T×S scores are computed and the pattern only masks them (the
 * sparsity is in the weights, not the work); a block-diagonal pattern asks for one block of
 * queries against its block of keys at a time ({@link #attend(Variable, Variable, Variable,
 * AttentionMask, int, int, int, int)}), which is linear in T for a fixed block.
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
        return attend(q, k, v, mask, 0, q.size(2), 0, k.size(2));
    }

    /**
     * Query rows t0 … t0 + rows − 1 against keys lo … hi − 1 only, (B, H, rows, Dv): for patterns
     * that are block-diagonal (LongNet's segments), a block of queries needs only its block of keys,
     * so the work is linear in T. Rows, keys and the mask keep their indices in the full q, k.
     */
    default Variable attend(Variable q, Variable k, Variable v, AttentionMask mask, int t0, int rows, int lo, int hi) {
        int heads = q.size(1);
        int width = hi - lo;
        int[] counts = counts(mask, q.size(0), heads, q.size(2), k.size(2), t0, rows, lo, hi); // (B or 1, H, rows, width)
        int batches = counts.length / (heads * rows * width);
        byte[] allowed = new byte[counts.length];
        boolean repeated = false;
        for (int n = 0; n < counts.length; n++) {
            allowed[n] = (byte) (counts[n] > 0 ? 1 : 0);
            repeated |= counts[n] > 1;
        }
        double alpha = LogitScale.inverseSqrt(q.size(-1));
        Variable scores = q.narrow(2, t0, rows).matmul(k.narrow(2, lo, width).mT()); // (B, H, rows, width)
        if (repeated) { // ln c added before the fused softmax, which scales by α: so ln c / α here
            double[] bias = new double[counts.length];
            for (int n = 0; n < counts.length; n++) {
                bias[n] = counts[n] > 1 ? Math.log(counts[n]) / alpha : 0;
            }
            scores = scores.add(OnDevice.constant(Tensor.of(bias, batches, heads, rows, width), scores));
        }
        Tensor mask01 = Tensor.of(Storage.wrap(DType.BOOL, allowed), batches, heads, rows, width);
        Variable p = new MaskedSoftmaxFunction(mask01, alpha).call(scores); // (B, H, rows, width)
        return p.matmul(v.narrow(2, lo, width)); // (B, H, rows, Dv)
    }

    /** c_h(i, j) for batch rows, heads, queries t0 … t0 + rows − 1 and keys lo … hi − 1, zero where the mask hides the key: (B or 1, H, rows, width) flat. */
    default int[] counts(AttentionMask mask, int batch, int heads, int queries, int keys, int t0, int rows, int lo, int hi) {
        int n = mask.documentIds() == null ? 1 : batch;
        int width = hi - lo;
        int[] c = new int[n * heads * rows * width];
        for (int b = 0; b < n; b++) {
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < rows; r++) {
                    int t = t0 + r;
                    int i = mask.queryOffset() + t;
                    int off = ((b * heads + h) * rows + r) * width;
                    for (int j = lo; j < hi; j++) {
                        if (mask.allowed(b, t, j, queries, keys)) {
                            c[off + j - lo] = count(h, i, j, keys);
                        }
                    }
                }
            }
        }
        return c;
    }
}
