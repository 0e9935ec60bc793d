package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix-vector products (m = 1: one token of cached decoding) without packing. Packing exists to
 * reuse each B panel across many rows of A; with a single row it only doubles the traffic over the
 * weights, which is what decoding is bound by. Two layouts are served: B read transposed with unit
 * row stride (y = x·Wᵀ for a row-major W, as {@code Linear} does): one dot product per output; and
 * B with unit column stride: one axpy per row of B. Work is split over fixed chunks of outputs and
 * each output's sum runs in a fixed order, so results do not depend on the thread count.
 */
final class GemmVector {
    private static final VectorSpecies<Float> S = Simd.F32;
    private static final int CHUNK = 64;

    private GemmVector() {}

    /** Whether {@link #sgemv} handles this product. */
    static boolean applies(int m, int k, int aColStride, int bRowStride, int bColStride) {
        return m == 1 && k >= S.length() && ((bRowStride == 1 && aColStride == 1) || bColStride == 1);
    }

    static void sgemv(int n, int k, float[] a, int aOff, int aColStride, float[] b, int bOff, int bRowStride, int bColStride,
            float[] c, int cOff, boolean accumulate) {
        int chunks = Parallel.chunkCount(n, CHUNK);
        if (bRowStride == 1 && aColStride == 1) {
            int work = n * k;
            IntRunner run = chunk -> {
                for (int j = chunk * CHUNK, end = Math.min(n, j + CHUNK); j < end; j++) {
                    float dot = dot(a, aOff, b, bOff + j * bColStride, k);
                    c[cOff + j] = accumulate ? c[cOff + j] + dot : dot;
                }
            };
            runChunks(chunks, work, run);
        } else {
            int work = n * k;
            IntRunner run = chunk -> {
                int from = chunk * CHUNK;
                int len = Math.min(CHUNK, n - from);
                axpyRows(len, k, a, aOff, aColStride, b, bOff + from, bRowStride, c, cOff + from, accumulate);
            };
            runChunks(chunks, work, run);
        }
    }

    private interface IntRunner extends java.util.function.IntConsumer {}

    private static void runChunks(int chunks, int work, IntRunner run) {
        if (work < (1 << 16)) {
            for (int i = 0; i < chunks; i++) {
                run.accept(i);
            }
        } else {
            Parallel.forEachChunk(chunks, run);
        }
    }

    /** Σ x[i]·y[i] with two vector accumulators summed lane by lane in order, then the tail. */
    private static float dot(float[] x, int xo, float[] y, int yo, int k) {
        int lanes = S.length();
        int upper2 = k - k % (2 * lanes);
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        int p = 0;
        for (; p < upper2; p += 2 * lanes) {
            acc0 = FloatVector.fromArray(S, x, xo + p).fma(FloatVector.fromArray(S, y, yo + p), acc0);
            acc1 = FloatVector.fromArray(S, x, xo + p + lanes).fma(FloatVector.fromArray(S, y, yo + p + lanes), acc1);
        }
        for (; p + lanes <= k; p += lanes) {
            acc0 = FloatVector.fromArray(S, x, xo + p).fma(FloatVector.fromArray(S, y, yo + p), acc0);
        }
        double sum = Simd.sumLanes(acc0.add(acc1));
        for (; p < k; p++) {
            sum += x[xo + p] * y[yo + p];
        }
        return (float) sum;
    }

    /** c[0..len) (+)= Σ_p a[p]·B[p, 0..len) with B rows at stride {@code bRowStride}, columns contiguous. */
    private static void axpyRows(int len, int k, float[] a, int aOff, int aColStride, float[] b, int bOff, int bRowStride, float[] c,
            int cOff, boolean accumulate) {
        float[] acc = new float[len];
        int lanes = S.length();
        int upper = len - len % lanes;
        for (int p = 0; p < k; p++) {
            float ap = a[aOff + p * aColStride];
            int row = bOff + p * bRowStride;
            int j = 0;
            for (; j < upper; j += lanes) {
                FloatVector.fromArray(S, b, row + j).fma(FloatVector.broadcast(S, ap), FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
            }
            for (; j < len; j++) {
                acc[j] = Math.fma(b[row + j], ap, acc[j]);
            }
        }
        for (int j = 0; j < len; j++) {
            c[cOff + j] = accumulate ? c[cOff + j] + acc[j] : acc[j];
        }
    }
}
