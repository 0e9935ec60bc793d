package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The unpacked matrix-vector path (m = 1) against a double reference, in both layouts, and across
 * thread counts. Depths run from 1 to past several vectors, so both sides of the GEMV cut-off
 * (k at least one vector of whatever width {@link Simd#F32} has) are covered at every width.
 */
class GemvTest {
    @Provide
    Arbitrary<Integer> depth() {
        int lanes = Simd.F32.length();
        return Arbitraries.oneOf(Arbitraries.of(1, lanes - 1, lanes, lanes + 1, 2 * lanes - 1, 2 * lanes + 1),
                Arbitraries.integers().between(1, 600));
    }

    @Property(tries = 120)
    void rowVectorTimesMatrixMatchesDoubleReference(@ForAll @IntRange(min = 1, max = 300) int n,
            @ForAll("depth") int k, @ForAll boolean transposedB, @ForAll boolean accumulate, @ForAll long seed) {
        Generator g = new Generator(seed);
        float[] a = Tensor.rand(g, DType.F32, k).sub(0.5).toFloatArray();
        float[] b = Tensor.rand(g, DType.F32, n * k + 3).sub(0.5).toFloatArray();
        float[] c = Tensor.rand(g, DType.F32, n + 2).toFloatArray();
        float[] c0 = c.clone();
        // transposedB: B(p, j) = W[j, p] with W (n, k) row-major at offset 3; else B (k, n) row-major
        int bRow = transposedB ? 1 : n;
        int bCol = transposedB ? k : 1;
        // the GEMV path serves every depth of at least one vector, in both layouts (below that, the packed path does)
        assertEquals(k >= Simd.F32.length(), GemmVector.applies(1, k, 1, bRow, bCol), "GEMV taken at k=" + k);
        Gemm.sgemm(1, n, k, a, 0, k, 1, b, 3, bRow, bCol, c, 2, n, accumulate);
        for (int j = 0; j < n; j++) {
            double expected = accumulate ? c0[2 + j] : 0;
            for (int p = 0; p < k; p++) {
                expected += (double) a[p] * b[3 + p * bRow + j * bCol];
            }
            assertEquals(expected, c[2 + j], 1e-6 * k, "output " + j);
        }
        assertEquals(c0[0], c[0]);
        assertEquals(c0[1], c[1]);
    }

    @Test
    void bitwiseEqualForAnyThreadCount() {
        Generator g = new Generator(3);
        float[] a = Tensor.randn(g, DType.F32, 768).toFloatArray();
        float[] w = Tensor.randn(g, DType.F32, 2048 * 768).toFloatArray();
        float[][] out = new float[3][2048];
        for (int t = 1; t <= 3; t++) {
            Parallel.setThreads(t);
            Gemm.sgemm(1, 2048, 768, a, 0, 768, 1, w, 0, 1, 768, out[t - 1], 0, 2048, false);
        }
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
        assertArrayEquals(out[0], out[1]);
        assertArrayEquals(out[0], out[2]);
    }
}
