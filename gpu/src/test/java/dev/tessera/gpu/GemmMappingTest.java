package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GemmMappingTest {
    /**
     * cublasSgemm semantics, column-major: C[i + j*ldc] = alpha * sum_l op(A)(i,l) op(B)(l,j) + beta * C,
     * op(X)(r,c) = X[r + c*ld] for N and X[c + r*ld] for T. Also checks cuBLAS's argument validation.
     */
    static void cpuSgemm(GemmMapping.Call c, float[] a, int aOff, float[] b, int bOff, float[] out) {
        int m = c.m(), n = c.n(), k = c.k();
        boolean ta = c.transa() == Cublas.CUBLAS_OP_T, tb = c.transb() == Cublas.CUBLAS_OP_T;
        assertTrue(c.lda() >= Math.max(1, ta ? k : m), "lda too small: " + c);
        assertTrue(c.ldb() >= Math.max(1, tb ? n : k), "ldb too small: " + c);
        assertTrue(c.ldc() >= Math.max(1, m), "ldc too small: " + c);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    float x = ta ? a[aOff + l + i * c.lda()] : a[aOff + i + l * c.lda()];
                    float y = tb ? b[bOff + j + l * c.ldb()] : b[bOff + l + j * c.ldb()];
                    s += (double) x * y;
                }
                out[i + j * c.ldc()] = (float) s;
            }
        }
    }

    /** A row-major logical (rows x cols) matrix stored row-major (ld >= cols) or column-major (ld >= rows). */
    record Stored(float[] data, long s0, long s1) {
        float get(int r, int c) {
            return data[(int) (r * s0 + c * s1)];
        }
    }

    static Stored store(float[][] x, boolean columnMajor, int pad) {
        int rows = x.length, cols = x[0].length;
        int ld = (columnMajor ? rows : cols) + pad;
        float[] d = new float[ld * (columnMajor ? cols : rows) + 1];
        long s0 = columnMajor ? 1 : ld, s1 = columnMajor ? ld : 1;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                d[(int) (r * s0 + c * s1)] = x[r][c];
            }
        }
        return new Stored(d, s0, s1);
    }

    static float[][] random(Random rnd, int r, int c) {
        float[][] x = new float[r][c];
        for (float[] row : x) {
            for (int i = 0; i < c; i++) {
                row[i] = rnd.nextInt(7) - 3;
            }
        }
        return x;
    }

    static void check(int m, int n, int k, boolean aCol, boolean bCol, int padA, int padB, int padC, long seed) {
        Random rnd = new Random(seed);
        float[][] a = random(rnd, m, k), b = random(rnd, k, n);
        Stored sa = store(a, aCol, padA), sb = store(b, bCol, padB);
        int ldc = n + padC;
        GemmMapping.Call call = GemmMapping.plan(m, n, k, sa.s0(), sa.s1(), sb.s0(), sb.s1(), ldc);
        assertNotNull(call);
        assertEquals(n, call.m());
        assertEquals(m, call.n());
        assertEquals(k, call.k());
        float[] c = new float[Math.max(1, ldc * m)];
        // first cuBLAS operand is B's storage, second A's
        cpuSgemm(call, sb.data(), 0, sa.data(), 0, c);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < k; l++) {
                    s += a[i][l] * b[l][j];
                }
                assertEquals((float) s, c[i * ldc + j], "C[" + i + "][" + j + "] for " + call);
            }
        }
    }

    @Test
    void allLayoutCombinations() {
        int[][] shapes = {{1, 1, 1}, {2, 3, 4}, {5, 1, 3}, {1, 6, 2}, {4, 4, 1}, {7, 5, 9}};
        long seed = 1;
        for (int[] s : shapes) {
            for (int mask = 0; mask < 4; mask++) {
                for (int pad = 0; pad < 2; pad++) {
                    check(s[0], s[1], s[2], (mask & 1) != 0, (mask & 2) != 0, pad, 2 * pad, pad, seed++);
                }
            }
        }
    }

    @Property(tries = 60)
    void randomShapesMatchRowMajorProduct(@ForAll @IntRange(min = 1, max = 9) int m, @ForAll @IntRange(min = 1, max = 9) int n,
            @ForAll @IntRange(min = 1, max = 9) int k, @ForAll boolean aCol, @ForAll boolean bCol,
            @ForAll @IntRange(min = 0, max = 3) int pad) {
        check(m, n, k, aCol, bCol, pad, pad + 1, pad, 31L * m + 7L * n + k);
    }

    @Test
    void contiguousPlansUseTheTransposeTrick() {
        GemmMapping.Call nn = GemmMapping.planContiguous(2, 3, 4, false, false);
        assertEquals(new GemmMapping.Call(Cublas.CUBLAS_OP_N, Cublas.CUBLAS_OP_N, 3, 2, 4, 3, 4, 3), nn);
        GemmMapping.Call tt = GemmMapping.planContiguous(2, 3, 4, true, true);
        assertEquals(new GemmMapping.Call(Cublas.CUBLAS_OP_T, Cublas.CUBLAS_OP_T, 3, 2, 4, 4, 2, 3), tt);
    }

    @Test
    void unrepresentableStridesNeedACopy() {
        assertNull(GemmMapping.plan(3, 3, 3, 0, 1, 3, 1, 3), "broadcast rows (stride 0)");
        assertNull(GemmMapping.plan(3, 3, 3, 6, 2, 3, 1, 3), "every other column");
        assertNull(GemmMapping.plan(3, 3, 3, 3, 1, 2, 1, 3), "row stride below the row length");
        assertThrows(IllegalArgumentException.class, () -> GemmMapping.plan(2, 3, 4, 4, 1, 3, 1, 2));
    }
}
