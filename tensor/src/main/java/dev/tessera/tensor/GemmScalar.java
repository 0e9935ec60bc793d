package dev.tessera.tensor;

/**
 * Scalar twin of the SIMD GEMM ({@code -Dtessera.simd=off}): a plain i-p-j loop nest over the
 * strided operands, no packing. Rows are split into size-only chunks for the shared pool, and every
 * element is accumulated as {@code c = c + a*b} in increasing p, so results do not depend on the
 * thread count here either.
 */
final class GemmScalar {
    private static final int ROWS_PER_CHUNK = 16;

    private GemmScalar() {}

    private static boolean parallel(int m, int n, int k) {
        return Parallel.threads() > 1 && (long) m * n * k >= GemmBlocked.PARALLEL_MIN_WORK;
    }

    static void sgemm(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs,
            int bcs, float[] c, int cOff, int ldc, boolean accumulate) {
        if (!parallel(m, n, k)) {
            sgemmRows(0, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
            return;
        }
        Parallel.forEachChunk(GemmBlocked.ceilDiv(m, ROWS_PER_CHUNK), ch -> sgemmRows(ch * ROWS_PER_CHUNK,
                Math.min(m, (ch + 1) * ROWS_PER_CHUNK), n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc,
                accumulate));
    }

    /** Rows [i0, i1) of C; also the direct path for tiny products. */
    static void sgemmRows(int i0, int i1, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff,
            int brs, int bcs, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = i0; i < i1; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) {
                java.util.Arrays.fill(c, ci, ci + n, 0f);
            }
            for (int p = 0; p < k; p++) {
                float aip = a[aOff + i * ars + p * acs];
                int bi = bOff + p * brs;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += aip * b[bi + j * bcs];
                }
            }
        }
    }

    static void dgemm(int m, int n, int k, double[] a, int aOff, int ars, int acs, double[] b, int bOff, int brs,
            int bcs, double[] c, int cOff, int ldc, boolean accumulate) {
        if (!parallel(m, n, k)) {
            dgemmRows(0, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
            return;
        }
        Parallel.forEachChunk(GemmBlocked.ceilDiv(m, ROWS_PER_CHUNK), ch -> dgemmRows(ch * ROWS_PER_CHUNK,
                Math.min(m, (ch + 1) * ROWS_PER_CHUNK), n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc,
                accumulate));
    }

    /** Rows [i0, i1) of C; also the direct path for tiny products. */
    static void dgemmRows(int i0, int i1, int n, int k, double[] a, int aOff, int ars, int acs, double[] b,
            int bOff, int brs, int bcs, double[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = i0; i < i1; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) {
                java.util.Arrays.fill(c, ci, ci + n, 0d);
            }
            for (int p = 0; p < k; p++) {
                double aip = a[aOff + i * ars + p * acs];
                int bi = bOff + p * brs;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += aip * b[bi + j * bcs];
                }
            }
        }
    }

    static void hgemm(boolean bf16, int m, int n, int k, short[] a, int aOff, int ars, int acs, short[] b, int bOff,
            int brs, int bcs, float[] c, int cOff, int ldc, boolean accumulate) {
        if (!parallel(m, n, k)) {
            hgemmRows(bf16, 0, m, n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc, accumulate);
            return;
        }
        Parallel.forEachChunk(GemmBlocked.ceilDiv(m, ROWS_PER_CHUNK), ch -> hgemmRows(bf16, ch * ROWS_PER_CHUNK,
                Math.min(m, (ch + 1) * ROWS_PER_CHUNK), n, k, a, aOff, ars, acs, b, bOff, brs, bcs, c, cOff, ldc,
                accumulate));
    }

    /** Rows [i0, i1) of C; also the direct path for tiny products. */
    static void hgemmRows(boolean bf16, int i0, int i1, int n, int k, short[] a, int aOff, int ars, int acs,
            short[] b, int bOff, int brs, int bcs, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = i0; i < i1; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) {
                java.util.Arrays.fill(c, ci, ci + n, 0f);
            }
            for (int p = 0; p < k; p++) {
                float aip = GemmPacking.half(bf16, a[aOff + i * ars + p * acs]);
                int bi = bOff + p * brs;
                for (int j = 0; j < n; j++) {
                    c[ci + j] += aip * GemmPacking.half(bf16, b[bi + j * bcs]);
                }
            }
        }
    }
}
