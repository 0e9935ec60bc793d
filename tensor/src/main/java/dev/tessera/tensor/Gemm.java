package dev.tessera.tensor;

/**
 * General matrix multiply on strided row-major views: {@code C = (accumulate ? C : 0) + A * B}.
 *
 * <p>{@code A(i,p) = a[aOff + i*aRowStride + p*aColStride]}, {@code B(p,j) = b[bOff + p*bRowStride +
 * j*bColStride]}, {@code C(i,j) = c[cOff + i*ldc + j]}. A transposed operand is passed by swapping
 * its strides; any other strided view (column slices, every other row, ...) works the same way
 * without copying. C must not overlap A or B.
 *
 * <p>The implementation is BLIS-structured (see {@link GemmBlocked}): operands are packed into
 * micro-panels, blocked for the caches and multiplied by a register-blocked FMA micro-kernel on
 * {@link Simd#F32} (the preferred species unless {@code -Dtessera.simd} forces one). Work is
 * spread over {@link Parallel}'s pool by blocks of C only, so results are bitwise identical for
 * every thread count. {@code -Dtessera.simd=off} selects a plain scalar loop instead
 * ({@link GemmScalar}).
 */
public final class Gemm {
    /** Whether the SIMD path is used; {@code -Dtessera.simd=off} (read once, by {@link Simd}) turns it off. */
    static final boolean SIMD = Simd.ENABLED && GemmKernels.FL >= 4;

    /**
     * Products with m*n*k at most this take a direct scalar loop (no packing, no pool): the many tiny
     * matmuls of autograd. The choice depends on the sizes only, never on the thread count.
     */
    static final long TINY = 2048;

    private Gemm() {}

    /** Single-precision GEMM; see the class comment for the operand layout. */
    public static void sgemm(int m, int n, int k, float[] a, int aOff, int aRowStride, int aColStride, float[] b,
            int bOff, int bRowStride, int bColStride, float[] c, int cOff, int ldc, boolean accumulate) {
        check("sgemm", m, n, k, a == null ? -1 : a.length, aOff, aRowStride, aColStride, b == null ? -1 : b.length,
                bOff, bRowStride, bColStride, c == null ? -1 : c.length, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
            return;
        }
        long start = GemmProfile.ENABLED ? System.nanoTime() : 0;
        if ((long) m * n * k <= TINY) {
            GemmScalar.sgemmRows(0, m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c,
                    cOff, ldc, accumulate);
        } else if (SIMD && GemmVector.applies(m, k, aColStride, bRowStride, bColStride)) {
            GemmVector.sgemv(n, k, a, aOff, aColStride, b, bOff, bRowStride, bColStride, c, cOff, accumulate);
        } else if (SIMD) {
            GemmBlocked.sgemm(GemmBlocked.F32, m, n, k, a, null, aOff, aRowStride, aColStride, b, null, bOff,
                    bRowStride, bColStride, c, cOff, ldc, accumulate);
        } else {
            GemmScalar.sgemm(m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c, cOff,
                    ldc, accumulate);
        }
        if (GemmProfile.ENABLED) {
            GemmProfile.record(m, n, k, aRowStride, aColStride, bRowStride, bColStride, System.nanoTime() - start);
        }
    }

    /** Double-precision GEMM; see the class comment for the operand layout. */
    public static void dgemm(int m, int n, int k, double[] a, int aOff, int aRowStride, int aColStride, double[] b,
            int bOff, int bRowStride, int bColStride, double[] c, int cOff, int ldc, boolean accumulate) {
        check("dgemm", m, n, k, a == null ? -1 : a.length, aOff, aRowStride, aColStride, b == null ? -1 : b.length,
                bOff, bRowStride, bColStride, c == null ? -1 : c.length, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0d);
                }
            }
            return;
        }
        if ((long) m * n * k <= TINY) {
            GemmScalar.dgemmRows(0, m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c,
                    cOff, ldc, accumulate);
        } else if (SIMD) {
            GemmBlocked.dgemm(m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c, cOff,
                    ldc, accumulate);
        } else {
            GemmScalar.dgemm(m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c, cOff,
                    ldc, accumulate);
        }
    }

    /**
     * Half-precision inputs (raw bits; {@code bf16} selects bfloat16, otherwise IEEE binary16), float
     * accumulation and float output. Inputs are widened exactly to float while packing and then
     * multiplied by the sgemm kernel.
     */
    public static void hgemm(boolean bf16, int m, int n, int k, short[] a, int aOff, int aRowStride,
            int aColStride, short[] b, int bOff, int bRowStride, int bColStride, float[] c, int cOff, int ldc,
            boolean accumulate) {
        check("hgemm", m, n, k, a == null ? -1 : a.length, aOff, aRowStride, aColStride, b == null ? -1 : b.length,
                bOff, bRowStride, bColStride, c == null ? -1 : c.length, cOff, ldc);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                for (int i = 0; i < m; i++) {
                    java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                }
            }
            return;
        }
        if ((long) m * n * k <= TINY) {
            GemmScalar.hgemmRows(bf16, 0, m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride,
                    c, cOff, ldc, accumulate);
        } else if (SIMD) {
            GemmBlocked.sgemm(bf16 ? GemmBlocked.BF16 : GemmBlocked.FP16, m, n, k, null, a, aOff, aRowStride,
                    aColStride, null, b, bOff, bRowStride, bColStride, c, cOff, ldc, accumulate);
        } else {
            GemmScalar.hgemm(bf16, m, n, k, a, aOff, aRowStride, aColStride, b, bOff, bRowStride, bColStride, c,
                    cOff, ldc, accumulate);
        }
    }

    // ---------------------------------------------------------------- argument checks

    private static void check(String op, int m, int n, int k, int aLen, int aOff, int ars, int acs, int bLen,
            int bOff, int brs, int bcs, int cLen, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException(sizes(op, m, n, k) + ": sizes must be >= 0");
        }
        if (aLen < 0 || bLen < 0 || cLen < 0) {
            throw new IllegalArgumentException(sizes(op, m, n, k) + ": array "
                    + (aLen < 0 ? "a" : bLen < 0 ? "b" : "c") + " is null");
        }
        if (m > 0 && k > 0 && !fits(aLen, aOff, m, ars, k, acs)) {
            throw extentError(op, m, n, k, "a", aLen, aOff, m, ars, k, acs, "m x k", "aRowStride", "aColStride");
        }
        if (k > 0 && n > 0 && !fits(bLen, bOff, k, brs, n, bcs)) {
            throw extentError(op, m, n, k, "b", bLen, bOff, k, brs, n, bcs, "k x n", "bRowStride", "bColStride");
        }
        if (m > 0 && n > 0) {
            if (m > 1 && ldc < n) {
                throw new IllegalArgumentException(sizes(op, m, n, k) + ": ldc=" + ldc
                        + " is less than n (rows of c would overlap)");
            }
            if (!fits(cLen, cOff, m, ldc, n, 1)) {
                throw extentError(op, m, n, k, "c", cLen, cOff, m, ldc, n, 1, "m x n", "ldc", "1");
            }
        }
    }

    private static String sizes(String op, int m, int n, int k) {
        return op + " (m=" + m + ", n=" + n + ", k=" + k + ")";
    }

    private static long lowest(int off, int rows, int rs, int cols, int cs) {
        return off + Math.min(0, (long) (rows - 1) * rs) + Math.min(0, (long) (cols - 1) * cs);
    }

    private static long highest(int off, int rows, int rs, int cols, int cs) {
        return off + Math.max(0, (long) (rows - 1) * rs) + Math.max(0, (long) (cols - 1) * cs);
    }

    private static boolean fits(int len, int off, int rows, int rs, int cols, int cs) {
        return lowest(off, rows, rs, cols, cs) >= 0 && highest(off, rows, rs, cols, cs) < len;
    }

    private static IllegalArgumentException extentError(String op, int m, int n, int k, String name, int len,
            int off, int rows, int rs, int cols, int cs, String shape, String rsName, String csName) {
        return new IllegalArgumentException(sizes(op, m, n, k) + ": " + name + " (length " + len
                + ") is too short for its " + shape + " extent: offset " + off + ", " + rsName + "=" + rs + ", "
                + csName + "=" + cs + " reach indices " + lowest(off, rows, rs, cols, cs) + ".."
                + highest(off, rows, rs, cols, cs));
    }
}
