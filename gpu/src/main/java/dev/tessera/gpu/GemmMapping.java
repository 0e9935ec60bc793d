package dev.tessera.gpu;

/**
 * Maps a row-major product {@code C[M,N] = A[M,K] B[K,N]} onto cuBLAS's column-major GEMM.
 *
 * <p>A row-major matrix with row stride {@code ld} is, read column-major with the same {@code ld},
 * its own transpose. So instead of transposing data we ask cuBLAS for {@code C^T = B^T A^T}: the
 * first cuBLAS operand is B's storage, the second A's, {@code m = N}, {@code n = M}. An operand whose
 * strides make it column-major (a transposed view, unit stride along rows) flips its transpose flag
 * instead of being copied. Anything else (a broadcast or a gather-like stride) is not expressible
 * and {@link #plan} returns {@code null} so the caller copies it contiguous first. Pure arithmetic,
 * tested against a CPU emulation of cublasSgemm.
 */
public final class GemmMapping {
    private GemmMapping() {}

    /**
     * The arguments of one column-major cuBLAS call. {@code transa} applies to the first cuBLAS
     * operand, which is the row-major <em>B</em>; {@code transb} to the second, the row-major A.
     */
    public record Call(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc) {}

    /** How a row-major {@code rows x cols} view with strides {@code (s0, s1)} sits in memory. */
    record Layout(boolean columnMajor, int ld) {}

    /** Row-major (unit column stride) or column-major (unit row stride) with a valid leading dimension, else null. */
    static Layout layout(int rows, int cols, long s0, long s1) {
        if (cols == 1 || s1 == 1) {
            long ld = rows == 1 ? Math.max(1, cols) : s0;
            if (ld >= Math.max(1, cols) && ld <= Integer.MAX_VALUE) {
                return new Layout(false, (int) ld);
            }
        }
        if (rows == 1 || s0 == 1) {
            long ld = cols == 1 ? Math.max(1, rows) : s1;
            if (ld >= Math.max(1, rows) && ld <= Integer.MAX_VALUE) {
                return new Layout(true, (int) ld);
            }
        }
        return null;
    }

    /**
     * The cuBLAS call computing row-major {@code C = A B} where A is {@code M x K} with element
     * strides {@code (a0, a1)}, B is {@code K x N} with strides {@code (b0, b1)}, and C is row-major
     * with row stride {@code ldc >= N}. Returns null when A or B needs a contiguous copy first.
     */
    public static Call plan(int m, int n, int k, long a0, long a1, long b0, long b1, int ldc) {
        if (m < 0 || n < 0 || k < 0 || ldc < Math.max(1, n)) {
            throw new IllegalArgumentException("GemmMapping.plan: M=" + m + " N=" + n + " K=" + k + " ldc=" + ldc
                    + " (need sizes >= 0 and ldc >= max(1, N))");
        }
        Layout a = layout(m, k, a0, a1);
        Layout b = layout(k, n, b0, b1);
        if (a == null || b == null) {
            return null;
        }
        int transa = b.columnMajor() ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
        int transb = a.columnMajor() ? Cublas.CUBLAS_OP_T : Cublas.CUBLAS_OP_N;
        return new Call(transa, transb, n, m, k, b.ld(), a.ld(), ldc);
    }

    /** The plan for contiguous row-major operands, optionally used transposed ({@code A^T} stored as K x M). */
    public static Call planContiguous(int m, int n, int k, boolean transA, boolean transB) {
        long[] as = transA ? new long[] {1, m} : new long[] {k, 1};
        long[] bs = transB ? new long[] {1, k} : new long[] {n, 1};
        return plan(m, n, k, as[0], as[1], bs[0], bs[1], Math.max(1, n));
    }
}
