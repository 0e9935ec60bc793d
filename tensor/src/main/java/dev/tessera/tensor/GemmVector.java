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
    private static final int PARALLEL_WORK = 1 << 16;

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
                int j = chunk * CHUNK;
                int end = Math.min(n, j + CHUNK);
                for (; j + 4 <= end; j += 4) {
                    dot4(a, aOff, b, bOff + j * bColStride, bColStride, k, c, cOff + j, accumulate);
                }
                for (; j < end; j++) {
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
        if (work < PARALLEL_WORK) {
            for (int i = 0; i < chunks; i++) {
                run.accept(i);
            }
        } else {
            Parallel.forEachChunk(chunks, run);
        }
    }

    /**
     * Four outputs at once: c[i] (+)= Σ_p x[p]·B[i, p] for rows {@code yo + i·stride}, i = 0..3. Each x
     * vector is loaded once for four rows, and four weight streams are in flight, which is what a
     * memory-bound product needs. Every row's sum has the same order as {@link #dot}.
     */
    private static void dot4(float[] x, int xo, float[] y, int yo, int stride, int k, float[] c, int co, boolean accumulate) {
        int lanes = S.length();
        int upper = k - k % lanes;
        int y1 = yo + stride;
        int y2 = y1 + stride;
        int y3 = y2 + stride;
        FloatVector acc0 = FloatVector.zero(S);
        FloatVector acc1 = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S);
        FloatVector acc3 = FloatVector.zero(S);
        for (int p = 0; p < upper; p += lanes) {
            FloatVector xv = FloatVector.fromArray(S, x, xo + p);
            acc0 = FloatVector.fromArray(S, y, yo + p).fma(xv, acc0);
            acc1 = FloatVector.fromArray(S, y, y1 + p).fma(xv, acc1);
            acc2 = FloatVector.fromArray(S, y, y2 + p).fma(xv, acc2);
            acc3 = FloatVector.fromArray(S, y, y3 + p).fma(xv, acc3);
        }
        float s0 = Simd.sumLanesInOrder(acc0);
        float s1 = Simd.sumLanesInOrder(acc1);
        float s2 = Simd.sumLanesInOrder(acc2);
        float s3 = Simd.sumLanesInOrder(acc3);
        for (int p = upper; p < k; p++) {
            float xp = x[xo + p];
            s0 = Math.fma(xp, y[yo + p], s0);
            s1 = Math.fma(xp, y[y1 + p], s1);
            s2 = Math.fma(xp, y[y2 + p], s2);
            s3 = Math.fma(xp, y[y3 + p], s3);
        }
        c[co] = accumulate ? c[co] + s0 : s0;
        c[co + 1] = accumulate ? c[co + 1] + s1 : s1;
        c[co + 2] = accumulate ? c[co + 2] + s2 : s2;
        c[co + 3] = accumulate ? c[co + 3] + s3 : s3;
    }

    /** One output of {@link #dot4}'s kind, for the rows left over when n is not a multiple of four. */
    private static float dot(float[] x, int xo, float[] y, int yo, int k) {
        int lanes = S.length();
        int upper = k - k % lanes;
        FloatVector acc = FloatVector.zero(S);
        for (int p = 0; p < upper; p += lanes) {
            acc = FloatVector.fromArray(S, y, yo + p).fma(FloatVector.fromArray(S, x, xo + p), acc);
        }
        float sum = Simd.sumLanesInOrder(acc);
        for (int p = upper; p < k; p++) {
            sum = Math.fma(x[xo + p], y[yo + p], sum);
        }
        return sum;
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
