package dev.tessera.tensor;

/** Placeholder: the tuned GEMM lands from the gemm branch. Naive strided reference loops. */
public final class Gemm {
    private Gemm() {}

    public static void sgemm(int m, int n, int k, float[] a, int aOff, int aRowStride, int aColStride,
            float[] b, int bOff, int bRowStride, int bColStride, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[aOff + i * aRowStride + p * aColStride] * b[bOff + p * bRowStride + j * bColStride];
                }
                c[cOff + i * ldc + j] = accumulate ? c[cOff + i * ldc + j] + s : s;
            }
        }
    }

    public static void dgemm(int m, int n, int k, double[] a, int aOff, int aRowStride, int aColStride,
            double[] b, int bOff, int bRowStride, int bColStride, double[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[aOff + i * aRowStride + p * aColStride] * b[bOff + p * bRowStride + j * bColStride];
                }
                c[cOff + i * ldc + j] = accumulate ? c[cOff + i * ldc + j] + s : s;
            }
        }
    }

    public static void hgemm(boolean bf16, int m, int n, int k, short[] a, int aOff, int aRowStride, int aColStride,
            short[] b, int bOff, int bRowStride, int bColStride, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0;
                for (int p = 0; p < k; p++) {
                    short x = a[aOff + i * aRowStride + p * aColStride];
                    short y = b[bOff + p * bRowStride + j * bColStride];
                    s += bf16 ? HalfFloats.bf16ToFloat(x) * HalfFloats.bf16ToFloat(y) : HalfFloats.f16ToFloat(x) * HalfFloats.f16ToFloat(y);
                }
                c[cOff + i * ldc + j] = accumulate ? c[cOff + i * ldc + j] + s : s;
            }
        }
    }
}
