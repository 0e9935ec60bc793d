package dev.tessera.tensor;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused softmax attention in F32 on the Vector API, forward and backward, in FlashAttention-2's
 * loop order (Dao, "FlashAttention-2: Faster Attention with Better Parallelism and Work
 * Partitioning", 2023). q (B, H, T, D), k (B, H, S, D), v (B, H, S, Dv), row-major and contiguous.
 *
 * <p>Forward, per (batch, head) and query block Q_r of {@link #BR} rows, over the key blocks K_c, V_c
 * of {@link #BC} keys that any row of the block may see (nothing above the causal diagonal, nothing
 * outside the rows' document spans):
 * <pre>
 *   S = α·Q_r·K_cᵀ (−∞ where masked);  m' = max(m, rowmax S);  P = e^(S − m')
 *   l' = e^(m − m')·l + rowsum P;  O' = e^(m − m')·O + P·V_c;   at the end O /= l,  L = m + log l
 * </pre>
 * Backward, per (batch, head), key blocks outer and query blocks inner, P recomputed from L:
 * <pre>
 *   Δ = rowsum(dO ⊙ O);  P = e^(α·Q_r·K_cᵀ − L);  dV_c += Pᵀ·dO_r;  dP = dO_r·V_cᵀ
 *   dS = P ⊙ (dP − Δ);   dQ_r += α·dS·K_c;   dK_c += α·dSᵀ·Q_r
 * </pre>
 * Every product is one small GEMM, C += A·B with B's rows contiguous: the scores use Kᵀ packed
 * once per head (D × S, zero-padded to whole key blocks) and dP uses Vᵀ likewise, so a 6-row ×
 * 2-vector register tile broadcasts six A scalars against each loaded B vector. Exponentials are
 * {@link VectorMath#exp}, which gives the same bits in every JIT tier. Only the logsumexp L (B·H·T)
 * is kept between forward and backward; scratch is O(D·S + BR·BC) per (batch, head), never T×S.
 *
 * <p>Work is split over (batch, head) pairs with {@link Parallel#forEachChunk}, each pair computed
 * sequentially, so every output element comes from the same sequence of operations whatever the
 * thread count: results are bitwise identical for any number of threads. With
 * {@code -Dtessera.simd=off} the same loops run on scalars ({@code StrictMath.exp}).
 */
public final class FlashAttention {
    /** Query rows per block. */
    static final int BR = 64;
    /** Keys per block; a multiple of every species' float lane count (≤ 16), so padded rows are whole vectors. */
    static final int BC = 64;

    private static final VectorSpecies<Float> S = Simd.F32;

    private FlashAttention() {}

    /**
     * One attention call's shape and mask.
     *
     * @param scale the score scale α
     * @param causal whether query t sees only keys s ≤ queryOffset + t
     * @param queryOffset absolute position of the first query (S − T with a cache)
     * @param documents per batch row, the S keys' document ids (queries carry the last T), or null
     */
    public record Problem(int batch, int heads, int queries, int keys, int headDim, int valueDim, float scale, boolean causal,
            int queryOffset, long[][] documents) {
        public Problem {
            if (batch < 1 || heads < 1 || queries < 1 || keys < queries || headDim < 1 || valueDim < 1 || !(scale > 0)
                    || queryOffset < 0) {
                throw new IllegalArgumentException("FlashAttention: bad problem batch=" + batch + " heads=" + heads + " T=" + queries
                        + " S=" + keys + " D=" + headDim + " Dv=" + valueDim + " scale=" + scale + " offset=" + queryOffset);
            }
            if (documents != null && (documents.length != batch || Arrays.stream(documents).anyMatch(d -> d.length != keys))) {
                throw new IllegalArgumentException("FlashAttention: documents must be " + batch + " rows of " + keys + " ids");
            }
        }

        private int paddedKeys() {
            return (keys + BC - 1) / BC * BC;
        }
    }

    /** Largest scratch one (batch, head) task allocates, in floats (forward or backward, whichever is larger). */
    public static long scratchFloatsPerTask(Problem p) {
        long packed = (long) (p.headDim + p.valueDim) * p.paddedKeys();
        return packed + 4L * BR * BC + (long) BR * p.valueDim + 3L * p.queries;
    }

    /** The largest single scratch array a task allocates, in floats: packed Kᵀ or Vᵀ, a block, or a per-row vector. */
    public static long largestArrayFloats(Problem p) {
        return Math.max(Math.max((long) p.headDim, p.valueDim) * p.paddedKeys(), Math.max((long) BR * Math.max(BC, p.valueDim), p.queries));
    }

    /** out (B, H, T, Dv) and the rows' logsumexps lse (B, H, T); −∞ and a zero row where a row may see no key. */
    public static void forward(Problem p, float[] q, float[] k, float[] v, float[] out, float[] lse) {
        int[][] spans = spans(p);
        Parallel.forEachChunk(p.batch * p.heads, bh -> new Task(p, bh, spans[2 * (bh / p.heads)], spans[2 * (bh / p.heads) + 1])
                .forward(q, k, v, out, lse));
    }

    /** dq, dk, dv (zeroed, shaped like q, k, v) from the forward's out and lse and the output gradient dOut. */
    public static void backward(Problem p, float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut, float[] dq,
            float[] dk, float[] dv) {
        int[][] spans = spans(p);
        Parallel.forEachChunk(p.batch * p.heads, bh -> new Task(p, bh, spans[2 * (bh / p.heads)], spans[2 * (bh / p.heads) + 1])
                .backward(q, k, v, out, lse, dOut, dq, dk, dv));
    }

    /**
     * Per batch row, each query's first and last key that may be allowed: [lo, hi] with hi the causal
     * bound and lo the first key of the query's document (keys in between of other documents are
     * masked one by one; packed rows have none).
     */
    private static int[][] spans(Problem p) {
        int[][] out = new int[2 * p.batch][];
        for (int b = 0; b < p.batch; b++) {
            int[] lo = new int[p.queries];
            int[] hi = new int[p.queries];
            long[] doc = p.documents == null ? null : p.documents[b];
            Map<Long, Integer> first = new HashMap<>();
            if (doc != null) {
                for (int j = p.keys - 1; j >= 0; j--) {
                    first.put(doc[j], j);
                }
            }
            for (int i = 0; i < p.queries; i++) {
                hi[i] = p.causal ? Math.min(p.queryOffset + i, p.keys - 1) : p.keys - 1;
                lo[i] = doc == null ? 0 : first.get(doc[p.keys - p.queries + i]);
            }
            out[2 * b] = lo;
            out[2 * b + 1] = hi;
        }
        return out;
    }

    /** One (batch, head): its offsets, spans and scratch. */
    private static final class Task {
        private final Problem p;
        private final int t;
        private final int s;
        private final int d;
        private final int dv;
        private final int sp;
        private final int qBase;
        private final int kBase;
        private final int vBase;
        private final int rowBase;
        private final int[] lo;
        private final int[] hi;
        private final long[] doc;
        private final float[] scores = new float[BR * BC];
        private final float[] probs = new float[BR * BC];

        Task(Problem p, int bh, int[] lo, int[] hi) {
            this.p = p;
            t = p.queries;
            s = p.keys;
            d = p.headDim;
            dv = p.valueDim;
            sp = p.paddedKeys();
            qBase = bh * t * d;
            kBase = bh * s * d;
            vBase = bh * s * dv;
            rowBase = bh * t;
            this.lo = lo;
            this.hi = hi;
            doc = p.documents == null ? null : p.documents[bh / p.heads];
        }

        void forward(float[] q, float[] k, float[] v, float[] out, float[] lse) {
            float[] kt = packTransposed(k, kBase, d);
            float[] acc = new float[BR * dv];
            float[] max = new float[BR];
            double[] sum = new double[BR];
            for (int r0 = 0; r0 < t; r0 += BR) {
                int rows = Math.min(BR, t - r0);
                Arrays.fill(acc, 0);
                Arrays.fill(max, Float.NEGATIVE_INFINITY);
                Arrays.fill(sum, 0);
                for (int c0 = firstBlock(r0, rows); c0 <= lastKey(r0, rows); c0 += BC) {
                    int cols = Math.min(BC, s - c0);
                    scores(q, kt, r0, rows, c0);
                    for (int r = 0; r < rows; r++) {
                        float m = maskedRowMax(r0 + r, r, c0, cols);
                        float mNew = Math.max(max[r], m);
                        if (mNew == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(probs, r * BC, (r + 1) * BC, 0f);
                            continue;
                        }
                        float correction = max[r] == mNew ? 1f : (float) StrictMath.exp(max[r] - mNew);
                        sum[r] = sum[r] * correction + expShifted(r, mNew, padded(cols));
                        max[r] = mNew;
                        if (correction != 1f) {
                            VectorMath.scaleInPlace(acc, r * dv, dv, correction);
                        }
                    }
                    mulAdd(probs, 0, BC, 1, v, vBase + c0 * dv, dv, acc, 0, dv, rows, dv, cols);
                }
                for (int r = 0; r < rows; r++) {
                    int row = r0 + r;
                    int o = (rowBase + row) * dv;
                    if (sum[r] == 0) {
                        Arrays.fill(out, o, o + dv, 0f);
                        lse[rowBase + row] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    float inv = (float) (1 / sum[r]);
                    for (int c = 0; c < dv; c++) {
                        out[o + c] = acc[r * dv + c] * inv;
                    }
                    lse[rowBase + row] = (float) (max[r] + StrictMath.log(sum[r]));
                }
            }
        }

        void backward(float[] q, float[] k, float[] v, float[] out, float[] lse, float[] dOut, float[] dq, float[] dk, float[] dvv) {
            float[] kt = packTransposed(k, kBase, d);
            float[] vt = packTransposed(v, vBase, dv);
            float[] dp = new float[BR * BC];
            float[] delta = new float[t];
            for (int i = 0; i < t; i++) {
                int o = (rowBase + i) * dv;
                double sumProducts = 0;
                for (int c = 0; c < dv; c++) {
                    sumProducts += (double) dOut[o + c] * out[o + c];
                }
                delta[i] = (float) sumProducts;
            }
            float alpha = p.scale;
            for (int c0 = 0; c0 < s; c0 += BC) {
                int cols = Math.min(BC, s - c0);
                for (int r0 = 0; r0 < t; r0 += BR) {
                    int rows = Math.min(BR, t - r0);
                    if (c0 < firstBlock(r0, rows) || c0 > lastKey(r0, rows)) {
                        continue;
                    }
                    scores(q, kt, r0, rows, c0);
                    for (int r = 0; r < rows; r++) {
                        float rowLse = lse[rowBase + r0 + r];
                        maskedRowMax(r0 + r, r, c0, cols);
                        if (rowLse == Float.NEGATIVE_INFINITY) {
                            Arrays.fill(probs, r * BC, (r + 1) * BC, 0f);
                        } else {
                            expShifted(r, rowLse, padded(cols));
                        }
                    }
                    mulAdd(probs, 0, 1, BC, dOut, (rowBase + r0) * dv, dv, dvv, vBase + c0 * dv, dv, cols, dv, rows); // Pᵀ·dO
                    Arrays.fill(dp, 0f);
                    mulAdd(dOut, (rowBase + r0) * dv, dv, 1, vt, c0, sp, dp, 0, BC, rows, padded(cols), dv);
                    for (int r = 0; r < rows; r++) {
                        float dl = delta[r0 + r];
                        for (int c = r * BC, end = c + cols; c < end; c++) {
                            probs[c] = alpha * probs[c] * (dp[c] - dl); // α·dS, in place of P
                        }
                    }
                    mulAdd(probs, 0, BC, 1, k, kBase + c0 * d, d, dq, qBase + r0 * d, d, rows, d, cols);
                    mulAdd(probs, 0, 1, BC, q, qBase + r0 * d, d, dk, kBase + c0 * d, d, cols, d, rows); // α·dSᵀ·Q
                }
            }
        }

        /** The first key block (a multiple of BC) any of the rows r0 … r0+rows−1 may see. */
        private int firstBlock(int r0, int rows) {
            int first = Integer.MAX_VALUE;
            for (int r = r0; r < r0 + rows; r++) {
                first = Math.min(first, lo[r]);
            }
            return first / BC * BC;
        }

        /** The last key any of the rows may see. */
        private int lastKey(int r0, int rows) {
            int last = -1;
            for (int r = r0; r < r0 + rows; r++) {
                last = Math.max(last, hi[r]);
            }
            return last;
        }

        /** scores[r][·] = rows r0 … of q times keys c0 … c0+BC−1 (padded Kᵀ columns give 0). */
        private void scores(float[] q, float[] kt, int r0, int rows, int c0) {
            Arrays.fill(scores, 0f);
            mulAdd(q, qBase + r0 * d, d, 1, kt, c0, sp, scores, 0, BC, rows, padded(Math.min(BC, s - c0)), d);
        }

        /**
         * probs row r = α·scores row r with −∞ at the keys query {@code row} may not see (outside
         * its span, another document, or past the block's {@code cols} keys); returns the row's max.
         */
        private float maskedRowMax(int row, int r, int c0, int cols) {
            int from = Math.max(lo[row] - c0, 0);
            int to = Math.min(hi[row] - c0 + 1, cols); // allowed columns [from, to)
            int base = r * BC;
            int width = padded(cols);
            float alpha = p.scale;
            float max = Float.NEGATIVE_INFINITY;
            int c = 0;
            if (Simd.ENABLED) {
                FloatVector best = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
                for (; c < width; c += S.length()) {
                    FloatVector x = FloatVector.fromArray(S, scores, base + c).mul(alpha);
                    x.intoArray(probs, base + c);
                    best = best.max(x);
                }
                max = best.reduceLanes(VectorOperators.MAX); // max is exact in any order
            }
            for (; c < width; c++) {
                probs[base + c] = alpha * scores[base + c];
                max = Math.max(max, probs[base + c]);
            }
            boolean masked = from > 0 || to < width;
            if (doc != null) {
                long own = doc[s - t + row];
                for (int j = Math.max(from, 0); j < to; j++) {
                    if (doc[c0 + j] != own) {
                        probs[base + j] = Float.NEGATIVE_INFINITY;
                        masked = true;
                    }
                }
            }
            if (!masked) {
                return max;
            }
            Arrays.fill(probs, base, base + Math.max(0, Math.min(from, width)), Float.NEGATIVE_INFINITY);
            Arrays.fill(probs, base + Math.max(to, 0), base + width, Float.NEGATIVE_INFINITY);
            max = Float.NEGATIVE_INFINITY;
            for (int j = Math.max(from, 0); j < to; j++) {
                max = Math.max(max, probs[base + j]);
            }
            return max;
        }

        /**
         * probs row r = e^(probs row r − shift) over the block's {@code width} padded columns; returns
         * their sum (lane sums of the vectors, the lanes then added in a fixed order; the scalar twin in key order).
         */
        private double expShifted(int r, float shift, int width) {
            int base = r * BC;
            if (Simd.ENABLED) {
                return VectorMath.expShiftedInPlace(probs, base, shift, width);
            }
            double sum = 0;
            for (int c = base; c < base + width; c++) {
                probs[c] = (float) StrictMath.exp(probs[c] - shift);
                sum += probs[c];
            }
            return sum;
        }

        /** (n × sp) = the (s × n) rows at base transposed, zero past s. */
        private float[] packTransposed(float[] x, int base, int n) {
            float[] out = new float[n * sp];
            for (int j = 0; j < s; j++) {
                for (int c = 0; c < n; c++) {
                    out[c * sp + j] = x[base + j * n + c];
                }
            }
            return out;
        }
    }

    /** cols rounded up to whole vectors (at most BC). */
    private static int padded(int cols) {
        int lanes = S.length();
        return Math.min(BC, (cols + lanes - 1) / lanes * lanes);
    }

    /**
     * C (m × n, row stride ldc) += A (m × kk) · B (kk × n, row stride ldb), A's element (i, x) at
     * {@code ao + i·ars + x·acs} (so ars = 1, acs = lda reads a stored matrix transposed): 6 rows ×
     * 2 vectors per register tile, then single rows and vectors, then scalar columns. Each C element
     * accumulates its kk products in order, one fused multiply-add each.
     */
    static void mulAdd(float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb, float[] c, int co, int ldc, int m, int n,
            int kk) {
        int j = 0;
        if (Simd.ENABLED) {
            int lanes = S.length();
            for (; j + 2 * lanes <= n; j += 2 * lanes) {
                int i = 0;
                for (; i + 6 <= m; i += 6) {
                    tile6x2(a, ao + i * ars, ars, acs, b, bo + j, ldb, c, co + i * ldc + j, ldc, kk);
                }
                for (; i < m; i++) {
                    tile1x1(a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, kk);
                    tile1x1(a, ao + i * ars, acs, b, bo + j + lanes, ldb, c, co + i * ldc + j + lanes, kk);
                }
            }
            for (; j + lanes <= n; j += lanes) {
                for (int i = 0; i < m; i++) {
                    tile1x1(a, ao + i * ars, acs, b, bo + j, ldb, c, co + i * ldc + j, kk);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            for (int jj = j; jj < n; jj++) {
                float sum = c[co + i * ldc + jj];
                for (int x = 0; x < kk; x++) {
                    sum = Math.fma(a[ao + i * ars + x * acs], b[bo + x * ldb + jj], sum);
                }
                c[co + i * ldc + jj] = sum;
            }
        }
    }

    private static void tile6x2(float[] a, int ao, int ars, int acs, float[] b, int bo, int ldb, float[] c, int co, int ldc, int kk) {
        int l = S.length();
        FloatVector c00 = FloatVector.fromArray(S, c, co), c01 = FloatVector.fromArray(S, c, co + l);
        FloatVector c10 = FloatVector.fromArray(S, c, co + ldc), c11 = FloatVector.fromArray(S, c, co + ldc + l);
        FloatVector c20 = FloatVector.fromArray(S, c, co + 2 * ldc), c21 = FloatVector.fromArray(S, c, co + 2 * ldc + l);
        FloatVector c30 = FloatVector.fromArray(S, c, co + 3 * ldc), c31 = FloatVector.fromArray(S, c, co + 3 * ldc + l);
        FloatVector c40 = FloatVector.fromArray(S, c, co + 4 * ldc), c41 = FloatVector.fromArray(S, c, co + 4 * ldc + l);
        FloatVector c50 = FloatVector.fromArray(S, c, co + 5 * ldc), c51 = FloatVector.fromArray(S, c, co + 5 * ldc + l);
        for (int x = 0; x < kk; x++) {
            int bx = bo + x * ldb;
            int ax = ao + x * acs;
            FloatVector b0 = FloatVector.fromArray(S, b, bx), b1 = FloatVector.fromArray(S, b, bx + l);
            FloatVector a0 = FloatVector.broadcast(S, a[ax]);
            c00 = b0.fma(a0, c00);
            c01 = b1.fma(a0, c01);
            FloatVector a1 = FloatVector.broadcast(S, a[ax + ars]);
            c10 = b0.fma(a1, c10);
            c11 = b1.fma(a1, c11);
            FloatVector a2 = FloatVector.broadcast(S, a[ax + 2 * ars]);
            c20 = b0.fma(a2, c20);
            c21 = b1.fma(a2, c21);
            FloatVector a3 = FloatVector.broadcast(S, a[ax + 3 * ars]);
            c30 = b0.fma(a3, c30);
            c31 = b1.fma(a3, c31);
            FloatVector a4 = FloatVector.broadcast(S, a[ax + 4 * ars]);
            c40 = b0.fma(a4, c40);
            c41 = b1.fma(a4, c41);
            FloatVector a5 = FloatVector.broadcast(S, a[ax + 5 * ars]);
            c50 = b0.fma(a5, c50);
            c51 = b1.fma(a5, c51);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + l);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + l);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + l);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + l);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + l);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + l);
    }

    private static void tile1x1(float[] a, int ao, int acs, float[] b, int bo, int ldb, float[] c, int co, int kk) {
        FloatVector acc = FloatVector.fromArray(S, c, co);
        for (int x = 0; x < kk; x++) {
            acc = FloatVector.fromArray(S, b, bo + x * ldb).fma(FloatVector.broadcast(S, a[ao + x * acs]), acc);
        }
        acc.intoArray(c, co);
    }
}
