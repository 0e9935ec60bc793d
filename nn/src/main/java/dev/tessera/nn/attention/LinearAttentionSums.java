package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The sums shared by the kernelised (linear) attentions, Performer FAVOR+ (B2) and elu+1 linear
 * attention (B3): given positive query and key features φ(Q) (B, H, T, m), φ(K) (B, H, S, m),
 *
 * <pre>
 *   bidirectional:  out = φ(Q) (φ(K)ᵀ V) / φ(Q) (φ(K)ᵀ 1)                         O((T+S)·m·Dv)
 *   masked:         out_t = φ(q_t)ᵀ Σ_{s∈[lo_t, hi_t]} φ(k_s) v_sᵀ / φ(q_t)ᵀ Σ_{s∈[lo_t, hi_t]} φ(k_s)
 * </pre>
 *
 * With a causal and/or Llama 3 document mask the sums run over an interval of keys,
 * Σ_{s∈[lo_t, hi_t]} = P[hi_t+1], with P the prefix sums over time restarted at each document's
 * first position: a causal row ends at hi_t = queryOffset + t, and lo_t is the first position of
 * the query's document. Restarting instead of taking C[hi_t+1] − C[lo_t] of whole-row sums matters
 * in F32: the difference cancels a document of small key weight against the earlier documents' (a
 * one-key document weighing 5·10⁻⁵ of the keys before it kept ~3 digits). That needs each document
 * id to occupy one contiguous run of positions (true of packed sequences); otherwise the call
 * fails. The prefix form keeps (B, H, S, m, Dv) prefix sums, one cumsum per document run. AFT-simple
 * (B12, {@link AftAttention}) reuses the intervals and run-restarted prefix sums.
 */
final class LinearAttentionSums {
    private LinearAttentionSums() {}

    /** out (B, H, T, Dv) from features fq (B, H, T, m), fk (B, H, S, m) and v (B, H, S, Dv); {@code op} names the caller in errors. */
    static Variable attend(String op, Variable fq, Variable fk, Variable v, AttentionMask mask) {
        return attend(op, fq, fk, v, mask, 0);
    }

    /**
     * As {@link #attend(String, Variable, Variable, Variable, AttentionMask)}, the denominator
     * clamped below at {@code eps} when eps &gt; 0: for features that can all be 0 (cosFormer's ReLU).
     */
    static Variable attend(String op, Variable fq, Variable fk, Variable v, AttentionMask mask, double eps) {
        if (!mask.masksAnything()) {
            Variable kv = fk.mT().matmul(v); // (B, H, m, Dv)
            Variable z = fk.sum(true, -2); // (B, H, 1, m)
            return fq.matmul(kv).div(floor(fq.matmul(z.mT()), eps)); // (B, H, T, Dv)
        }
        int bsz = fq.size(0), t = fq.size(2), s = fk.size(2);
        Variable kv = fk.unsqueeze(-1).mul(v.unsqueeze(-2)); // (B, H, S, m, Dv)
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] nums = new Variable[rows];
        Variable[] zs = new Variable[rows];
        for (int b = 0; b < rows; b++) {
            Intervals in = intervals(op, mask, b, t, s);
            Tensor end = Tensor.of(in.ends(), t).to(fk.data().device());
            nums[b] = runPrefixSums(rows == 1 ? kv : kv.narrow(0, b, 1), in.runStarts()).indexSelect(2, end); // (1|B, H, T, m, Dv)
            zs[b] = runPrefixSums(rows == 1 ? fk : fk.narrow(0, b, 1), in.runStarts()).indexSelect(2, end); // (1|B, H, T, m)
        }
        Variable num = rows == 1 ? nums[0] : Variable.cat(0, nums); // (B, H, T, m, Dv)
        Variable z = rows == 1 ? zs[0] : Variable.cat(0, zs); // (B, H, T, m)
        Variable numerator = fq.unsqueeze(-2).matmul(num).squeeze(-2); // (B, H, T, Dv)
        Variable denominator = fq.mul(z).sum(true, -1); // (B, H, T, 1)
        return numerator.div(floor(denominator, eps));
    }

    private static Variable floor(Variable denominator, double eps) {
        return eps > 0 ? denominator.clamp(eps, Double.NaN) : denominator;
    }

    /**
     * The T×S form with the same features: A = φ(Q) φ(K)ᵀ, zeroed where the mask forbids,
     * out = (A V) / (A 1). Quadratic memory; for tests and comparison.
     */
    static Variable attendQuadratic(Variable fq, Variable fk, Variable v, AttentionMask mask) {
        Variable a = fq.matmul(fk.mT()); // (B, H, T, S)
        if (mask.masksAnything()) {
            a = a.maskedFill(mask.allowedMatrix(fq.data().device(), fq.size(0), fq.size(2), fk.size(2)).logicalNot(), 0);
        }
        return a.matmul(v).div(a.sum(true, -1)); // (B, H, T, Dv)
    }

    /**
     * Along time (dim 2): a zero row, then each run's own inclusive prefix sums, so that
     * P[j+1] = Σ_{s∈[start of j's run, j]} x_s: (…, S, …) → (…, S+1, …).
     */
    static Variable runPrefixSums(Variable x, int[] runStarts) {
        int[] zeroShape = x.shape();
        zeroShape[2] = 1;
        Variable[] parts = new Variable[runStarts.length + 1];
        parts[0] = Variable.constant(Tensor.zeros(x.data().device(), x.dtype(), zeroShape));
        for (int r = 0; r < runStarts.length; r++) {
            int next = r + 1 < runStarts.length ? runStarts[r + 1] : x.size(2);
            parts[r + 1] = x.narrow(2, runStarts[r], next - runStarts[r]).cumsum(2);
        }
        return Variable.cat(2, parts);
    }

    /**
     * The first position of each run of equal document ids in batch row b's {@code doc}; fails with a
     * one-line error naming {@code op} when an id comes back after another (the sums restart per run).
     */
    static int[] documentRuns(String op, long[] doc, int b) {
        Set<Long> seen = new HashSet<>();
        int[] starts = new int[doc.length];
        int n = 0;
        for (int j = 0; j < doc.length; j++) {
            if (j == 0 || doc[j] != doc[j - 1]) {
                if (!seen.add(doc[j])) {
                    throw new IllegalArgumentException(op + ": document id " + doc[j] + " reappears at position " + j
                            + " of batch row " + b + "; the prefix-sum form needs each document in one contiguous run");
                }
                starts[n++] = j;
            }
        }
        return Arrays.copyOf(starts, n);
    }

    /** A batch row's document runs (first positions) and each query's index into {@link #runPrefixSums}. */
    record Intervals(int[] runStarts, long[] ends) {}

    /**
     * Batch row b's document runs (one run without documents) and, for each query t, hi_t + 1 for
     * allowed keys [lo_t, hi_t] (hi_t lies in the query's run, which starts at lo_t, so its
     * run-restarted prefix sum is the interval's sum), or 0, the zero row, when none is allowed.
     */
    static Intervals intervals(String op, AttentionMask mask, int b, int t, int s) {
        long[] doc = KernelSupport.documentRow(mask, b);
        int[] runStart = new int[s];
        int[] runEnd = new int[s];
        if (doc != null) {
            int[] starts = documentRuns(op, doc, b);
            for (int r = 0; r < starts.length; r++) {
                int end = r + 1 < starts.length ? starts[r + 1] : s;
                Arrays.fill(runStart, starts[r], end, starts[r]);
                Arrays.fill(runEnd, starts[r], end, end - 1);
            }
        }
        long[] ends = new long[t];
        for (int i = 0; i < t; i++) {
            int hi = mask.causal() ? Math.min(mask.queryOffset() + i, s - 1) : s - 1;
            int low = 0;
            if (doc != null) {
                int at = s - t + i; // the query's own position in documentIds
                low = runStart[at];
                hi = Math.min(hi, runEnd[at]);
            }
            ends[i] = hi >= low ? hi + 1 : 0;
        }
        return new Intervals(IntStream.range(0, s).filter(j -> runStart[j] == j).toArray(), ends); // without documents: {0}
    }
}
