package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Top-k explicit sparse attention (B9): Zhao, Lin, Sun, Zhang, Ren &amp; Sun 2019, "Explicit Sparse
 * Transformer: Concentrated Attention Through Explicit Selection" (§2). Each query keeps only its k
 * largest scores among the keys the mask allows, and the softmax runs over those:
 * <pre>
 *   S = Q·Kᵀ / √D                                   (B, H, T, S), disallowed keys (causal, A9 documents) at −∞
 *   t_i = the k-th largest allowed value of row i   (the row's smallest value if it allows fewer than k keys)
 *   M(S, k)_ij = S_ij if S_ij ≥ t_i, else −∞
 *   out = softmax(M(S, k))·V
 * </pre>
 * <b>Ties.</b> The rule keeps every allowed score ≥ t_i, so when several scores equal the k-th
 * largest, all of them are kept and the row keeps more than k keys. That is deterministic (it does
 * not depend on an index order, unlike torch.topk whose order among equal values is unspecified)
 * and is what the authors' code does ({@code mask_k = attn < topk_values[..., -1]}). A row that
 * allows fewer than k keys keeps all of them.
 *
 * <p><b>Gradients.</b> The selection is a constant mask chosen from the forward scores (it has no
 * derivative, as in the paper); the kept scores go through one fused masked softmax, whose
 * probabilities are exactly 0 at dropped keys, so dS is 0 there and nothing flows into the dropped
 * keys' scores. <b>Decoding.</b> The selection of query i depends only on its own row of scores,
 * i.e. on the keys up to its position, so a plain KV cache reproduces the full pass.
 *
 * <p>Cost: the full T×S score matrix is computed as in softmax attention (the sparsity is in the
 * weights, not the work); selection is a sort per row, O(T·S·log S).
 */
public final class TopKAttention implements AttentionKernel {
    /** @param k keys kept per query, k ≥ 1 */
    public record Options(int k) {
        public Options {
            if (k < 1) {
                throw new IllegalArgumentException("attention topk: option k must be >= 1, got " + k);
            }
        }
    }

    private final int k;

    public TopKAttention(Options options) {
        this(options.k());
    }

    /** @param k keys kept per query, k ≥ 1 */
    public TopKAttention(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("TopKAttention: k must be >= 1, got " + k);
        }
        this.k = k;
    }

    public int k() {
        return k;
    }

    @Override
    public Variable attend(Variable q, Variable key, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("TopKAttention", q, key, v, mask);
        Variable scores = q.matmul(key.mT()); // (B, H, T, S), unscaled: √D > 0 keeps the order
        Tensor allowed = mask.allowedMatrix(q.size(0), q.size(2), key.size(2)); // (B or 1, 1, T, S)
        Tensor kept = keep(scores.data(), allowed);
        Variable p = new MaskedSoftmaxFunction(kept, LogitScale.inverseSqrt(q.size(-1))).call(scores);
        return p.matmul(v); // (B, H, T, Dv)
    }

    /**
     * BOOL (B, H, T, S): key j is kept for row i when the mask allows it and its score is at least
     * the k-th largest allowed score of the row (all allowed keys when fewer than k).
     */
    Tensor keep(Tensor scores, Tensor allowed) {
        int[] sh = scores.shape();
        int heads = sh[1], t = sh[2], s = sh[3];
        int rows = sh[0] * heads * t;
        double[] x = scores.toDoubleArray();
        long[] a = allowed.toLongArray(); // (B or 1, 1, T, S), 1 where allowed
        boolean perBatch = allowed.size(0) > 1;
        byte[] m = new byte[rows * s];
        double[] buf = new double[s];
        for (int r = 0; r < rows; r++) {
            int b = r / (heads * t);
            int i = r % t;
            int aOff = ((perBatch ? b : 0) * t + i) * s;
            int n = 0;
            for (int j = 0; j < s; j++) {
                if (a[aOff + j] != 0) {
                    buf[n++] = x[r * s + j];
                }
            }
            if (n == 0) {
                continue;
            }
            double threshold = Double.NEGATIVE_INFINITY;
            if (n > k) {
                Arrays.sort(buf, 0, n);
                threshold = buf[n - k];
            }
            for (int j = 0; j < s; j++) {
                m[r * s + j] = (byte) (a[aOff + j] != 0 && x[r * s + j] >= threshold ? 1 : 0);
            }
        }
        return Tensor.of(Storage.wrap(DType.BOOL, m), sh[0], heads, t, s);
    }
}
