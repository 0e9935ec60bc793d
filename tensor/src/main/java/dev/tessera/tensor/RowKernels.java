package dev.tessera.tensor;

/**
 * Softmax's row passes over float arrays, for the fused row functions of other modules (cross-entropy):
 * the same kernels {@link Tensor#softmax} runs, so a fused op and the composite share their exp. With
 * {@code -Dtessera.simd=off} they run their scalar twins. Rows are given as (array, offset, length);
 * nothing is checked beyond Java's array bounds.
 */
public final class RowKernels {
    private RowKernels() {}

    /** max over {@code a[o..o+n)} (NaN wins, −inf for an empty row). */
    public static float max(float[] a, int o, int n) {
        return VectorMath.maxOf(a, o, n); // its vector loop is empty when SIMD is off
    }

    /** {@code y[yo..yo+n) = e^(x − shift)} over the row; returns Σ y in double (vector lanes added in order). */
    public static double expShifted(float[] x, int xo, float shift, float[] y, int yo, int n) {
        if (!Simd.ENABLED) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                float e = (float) Math.exp(x[xo + i] - shift);
                y[yo + i] = e;
                sum += e;
            }
            return sum;
        }
        return VectorMath.expShifted(x, xo, shift, y, yo, n);
    }
}
