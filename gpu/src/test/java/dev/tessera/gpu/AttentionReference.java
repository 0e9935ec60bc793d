package dev.tessera.gpu;

/**
 * Naive scaled dot-product attention in double precision, forward and backward, as the reference
 * for the device kernels: q {@code (B, H, Tq, D)}, k and v {@code (B, Hkv, Tk, D)}, query head h
 * reading kv head {@code h / (H / Hkv)}, causal meaning key j is visible to query i iff
 * {@code j <= i + offset}, and with document ids ({@code (B, docCols)}, null for none) also iff key
 * j's id (column j) equals query i's (column {@code Tk - Tq + i}), as nn's AttentionMask.allowed
 * says. A query that sees no key has output 0 and lse -inf.
 */
record AttentionReference(int b, int h, int hkv, int tq, int tk, int d, boolean causal, int offset, long[] docs, int docCols,
        double scale) {
    /** Causal from the end of the keys (offset Tk - Tq), no document ids. */
    AttentionReference(int b, int h, int hkv, int tq, int tk, int d, boolean causal, double scale) {
        this(b, h, hkv, tq, tk, d, causal, tk - tq, null, 0, scale);
    }

    /** Forward and backward results, flattened like the inputs. */
    record Result(double[] out, double[] lse, double[] dq, double[] dk, double[] dv) {}

    Result run(float[] q, float[] k, float[] v, float[] dOut) {
        double[] out = new double[q.length], lse = new double[b * h * tq], dq = new double[q.length];
        double[] dk = new double[k.length], dv = new double[v.length];
        for (int bi = 0; bi < b; bi++) {
            for (int hi = 0; hi < h; hi++) {
                int qb = (bi * h + hi) * tq, kb = (bi * hkv + hi / (h / hkv)) * tk;
                for (int i = 0; i < tq; i++) {
                    double[] p = new double[tk];
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < tk; j++) {
                        p[j] = visible(bi, i, j) ? dot(q, (qb + i) * d, k, (kb + j) * d) * scale : Double.NEGATIVE_INFINITY;
                        mx = Math.max(mx, p[j]);
                    }
                    if (mx == Double.NEGATIVE_INFINITY) {
                        lse[qb + i] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double z = 0;
                    for (int j = 0; j < tk; j++) {
                        p[j] = Math.exp(p[j] - mx);
                        z += p[j];
                    }
                    lse[qb + i] = mx + Math.log(z);
                    double[] dp = new double[tk];
                    double delta = 0;
                    for (int j = 0; j < tk; j++) {
                        p[j] /= z;
                        for (int c = 0; c < d; c++) {
                            out[(qb + i) * d + c] += p[j] * v[(kb + j) * d + c];
                        }
                        dp[j] = dot(dOut, (qb + i) * d, v, (kb + j) * d);
                        delta += p[j] * dp[j];
                    }
                    for (int j = 0; j < tk; j++) {
                        double ds = p[j] * (dp[j] - delta) * scale;
                        for (int c = 0; c < d; c++) {
                            dq[(qb + i) * d + c] += ds * k[(kb + j) * d + c];
                            dk[(kb + j) * d + c] += ds * q[(qb + i) * d + c];
                            dv[(kb + j) * d + c] += p[j] * dOut[(qb + i) * d + c];
                        }
                    }
                }
            }
        }
        return new Result(out, lse, dq, dk, dv);
    }

    private boolean visible(int bi, int i, int j) {
        return (!causal || j <= i + offset) && (docs == null || docs[bi * docCols + j] == docs[bi * docCols + tk - tq + i]);
    }

    private double dot(float[] a, int ao, float[] c, int co) {
        double s = 0;
        for (int x = 0; x < d; x++) {
            s += (double) a[ao + x] * c[co + x];
        }
        return s;
    }
}
