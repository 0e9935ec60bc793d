package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/**
 * GEMM against Apache Commons Math in double precision.
 *
 * <p>Tolerances (per element, stated once): with {@code amax = max|A|}, {@code bmax = max|B|} and
 * {@code c0max = max|C before|} (0 without accumulate),
 * <ul>
 *   <li>sgemm and hgemm (float accumulation): {@code |err| <= 1e-6 * (k * amax * bmax + c0max)};
 *   <li>dgemm: {@code |err| <= 1e-14 * (k * amax * bmax + c0max)}.
 * </ul>
 * These are a few ulps per term (2^-24 = 6e-8 for float, 2^-53 = 1.1e-16 for double) times k, with
 * headroom for rounding that does not cancel. hgemm is compared with the exact double product of the
 * half-rounded inputs, so only the float accumulation error is measured.
 *
 * <p>Operand layouts: each of A and B is row-major ("N"), the transposed view of a row-major array
 * ("T", strides swapped) or a general strided view ("S": every other column of a wider matrix, row
 * stride larger than twice the width, plus an offset). C is written with an offset and padded ldc.
 */
class GemmTest {
    /**
     * Sizes at the edges of the micro-tile and vector of whatever width runs (MR and NR of the float
     * and double tiles, lanes, each ±1 and doubled), and of the cache blocks, plus odd primes.
     */
    private static final int[] INTERESTING = edges();

    private static int[] edges() {
        java.util.TreeSet<Integer> sizes = new java.util.TreeSet<>(java.util.List.of(1, 2, 3, 97, 127, 251, 256, 257, 293));
        for (int unit : new int[] {GemmKernels.F_MR, GemmKernels.F_NR, GemmKernels.FL, GemmKernels.D_MR, GemmKernels.D_NR,
            GemmKernels.DL}) {
            for (int s : new int[] {unit - 1, unit, unit + 1, 2 * unit - 1, 2 * unit + 1, 3 * unit}) {
                if (s >= 1 && s <= 300) {
                    sizes.add(s);
                }
            }
        }
        return sizes.stream().mapToInt(Integer::intValue).toArray();
    }

    @Provide
    Arbitrary<Integer> dim() {
        return Arbitraries.oneOf(Arbitraries.of(toBoxed(INTERESTING)), Arbitraries.integers().between(1, 300));
    }

    @Provide
    Arbitrary<Character> layout() {
        return Arbitraries.of('N', 'T', 'S');
    }

    private static Integer[] toBoxed(int[] v) {
        Integer[] r = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }

    /** A logical rows x cols matrix stored in {@code data} as {@code data[off + i*rs + j*cs]}. */
    record View(int rows, int cols, int off, int rs, int cs, int size) {
        static View of(int rows, int cols, char layout) {
            return switch (layout) {
                case 'N' -> new View(rows, cols, 0, cols, 1, rows * cols);
                case 'T' -> new View(rows, cols, 0, 1, rows, rows * cols);
                default -> {
                    // every other column of a (rows x 2*cols+5) row-major matrix, starting at offset 7
                    int rs = 2 * cols + 5;
                    yield new View(rows, cols, 7, rs, 2, 7 + (rows - 1) * rs + 2 * (cols - 1) + 1 + 3);
                }
            };
        }

        int at(int i, int j) {
            return off + i * rs + j * cs;
        }
    }

    private static float[] randomFloats(int size, SplittableRandom rnd) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) {
            v[i] = (float) rnd.nextDouble(-2, 2);
        }
        return v;
    }

    private static RealMatrix matrix(View v, java.util.function.IntToDoubleFunction value) {
        double[][] d = new double[v.rows()][v.cols()];
        for (int i = 0; i < v.rows(); i++) {
            for (int j = 0; j < v.cols(); j++) {
                d[i][j] = value.applyAsDouble(v.at(i, j));
            }
        }
        return new Array2DRowRealMatrix(d, false);
    }

    private static double maxAbs(RealMatrix x) {
        double m = 0;
        for (double[] row : x.getData()) {
            for (double e : row) {
                m = Math.max(m, Math.abs(e));
            }
        }
        return m;
    }

    /** Checks C (ldc, cOff) against c0 + A*B with the tolerance rule of the class comment. */
    private static void check(String what, RealMatrix a, RealMatrix b, double[] c0, double[] c, int cOff, int ldc,
            boolean accumulate, double relTol) {
        int m = a.getRowDimension();
        int k = a.getColumnDimension();
        int n = b.getColumnDimension();
        RealMatrix ab = a.multiply(b);
        double c0max = 0;
        if (accumulate) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    c0max = Math.max(c0max, Math.abs(c0[cOff + i * ldc + j]));
                }
            }
        }
        double tol = relTol * (k * maxAbs(a) * maxAbs(b) + c0max);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                int ci = cOff + i * ldc + j;
                double expected = ab.getEntry(i, j) + (accumulate ? c0[ci] : 0);
                double err = Math.abs(c[ci] - expected);
                if (!(err <= tol)) {
                    throw new AssertionError(what + ": C(" + i + "," + j + ") = " + c[ci] + ", expected " + expected
                            + ", |err| " + err + " > tol " + tol);
                }
            }
        }
        // padding between rows of C is untouched
        for (int i = 0; i < m; i++) {
            for (int j = n; j < ldc && cOff + i * ldc + j < c.length; j++) {
                int ci = cOff + i * ldc + j;
                assertEquals(c0[ci], c[ci], what + ": padding of C changed at " + ci);
            }
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    interface FloatGemm {
        void run(int m, int n, int k, float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                float[] c, int cOff, int ldc, boolean accumulate);
    }

    private static void sgemmCase(FloatGemm gemm, String name, int m, int n, int k, char la, char lb,
            boolean accumulate, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        View va = View.of(m, k, la);
        View vb = View.of(k, n, lb);
        float[] a = randomFloats(va.size(), rnd);
        float[] b = randomFloats(vb.size(), rnd);
        int cOff = 5;
        int ldc = n + 3;
        float[] c = randomFloats(cOff + (m - 1) * ldc + n + 2, rnd);
        double[] c0 = toDouble(c);
        gemm.run(m, n, k, a, va.off(), va.rs(), va.cs(), b, vb.off(), vb.rs(), vb.cs(), c, cOff, ldc, accumulate);
        String what = name + " m=" + m + " n=" + n + " k=" + k + " " + la + lb + " acc=" + accumulate;
        check(what, matrix(va, i -> a[i]), matrix(vb, i -> b[i]), c0, toDouble(c), cOff, ldc, accumulate, 1e-6);
    }

    @Property(tries = 60)
    void sgemmMatchesReference(@ForAll("dim") int m, @ForAll("dim") int n, @ForAll("dim") int k,
            @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate, @ForAll long seed) {
        sgemmCase(Gemm::sgemm, "sgemm", m, n, k, la, lb, accumulate, seed);
    }

    @Property(tries = 20)
    void scalarSgemmMatchesReference(@ForAll("dim") int m, @ForAll("dim") int n, @ForAll("dim") int k,
            @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate, @ForAll long seed) {
        sgemmCase(GemmScalar::sgemm, "scalar sgemm", m, n, k, la, lb, accumulate, seed);
    }

    @Test
    void sgemmAllLayoutsOnEdgeSizes() {
        char[] layouts = {'N', 'T', 'S'};
        int mr = GemmKernels.F_MR;
        int nr = GemmKernels.F_NR;
        int lanes = GemmKernels.FL;
        // past the tiny-product cut-off, so the tiled and GEMV paths run: edge tiles in both directions,
        // and m = 1 with k just under (packed path) and just over (GEMV) one vector
        int[][] sizes = {{1, 1, 1}, {mr + 1, nr + 1, 67}, {2 * nr + 1, nr - 1, 61}, {1, 701, lanes - 1}, {1, 701, lanes + 1},
            {33, 47, 300}, {97, 31, 257},
            // two column groups over one row block and three or more depth blocks (KC is 256, or 128 with
            // 16 lanes): the groups share one packed A block
            {40, 9 * nr + 3, 1200}};
        for (int[] s : sizes) {
            assertTrue(s[0] == 1 && s[2] == 1 || (long) s[0] * s[1] * s[2] > Gemm.TINY, java.util.Arrays.toString(s));
        }
        long seed = 1;
        for (int[] s : sizes) {
            for (char la : layouts) {
                for (char lb : layouts) {
                    sgemmCase(Gemm::sgemm, "sgemm", s[0], s[1], s[2], la, lb, (seed & 1) == 0, seed++);
                }
            }
        }
    }

    interface DoubleGemm {
        void run(int m, int n, int k, double[] a, int aOff, int ars, int acs, double[] b, int bOff, int brs,
                int bcs, double[] c, int cOff, int ldc, boolean accumulate);
    }

    private static void dgemmCase(DoubleGemm gemm, String name, int m, int n, int k, char la, char lb,
            boolean accumulate, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        View va = View.of(m, k, la);
        View vb = View.of(k, n, lb);
        double[] a = rnd.doubles(va.size(), -2, 2).toArray();
        double[] b = rnd.doubles(vb.size(), -2, 2).toArray();
        int cOff = 3;
        int ldc = n + 1;
        double[] c = rnd.doubles(cOff + (m - 1) * ldc + n + 2, -2, 2).toArray();
        double[] c0 = c.clone();
        gemm.run(m, n, k, a, va.off(), va.rs(), va.cs(), b, vb.off(), vb.rs(), vb.cs(), c, cOff, ldc, accumulate);
        String what = name + " m=" + m + " n=" + n + " k=" + k + " " + la + lb + " acc=" + accumulate;
        check(what, matrix(va, i -> a[i]), matrix(vb, i -> b[i]), c0, c, cOff, ldc, accumulate, 1e-14);
    }

    @Property(tries = 30)
    void dgemmMatchesReference(@ForAll("dim") int m, @ForAll("dim") int n, @ForAll("dim") int k,
            @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate, @ForAll long seed) {
        dgemmCase(Gemm::dgemm, "dgemm", m, n, k, la, lb, accumulate, seed);
    }

    @Property(tries = 10)
    void scalarDgemmMatchesReference(@ForAll("dim") int m, @ForAll("dim") int n, @ForAll("dim") int k,
            @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate, @ForAll long seed) {
        dgemmCase(GemmScalar::dgemm, "scalar dgemm", m, n, k, la, lb, accumulate, seed);
    }

    private static short toHalf(boolean bf16, float f) {
        return bf16 ? (short) (Float.floatToRawIntBits(f) >>> 16) : Float.floatToFloat16(f);
    }

    private static void hgemmCase(boolean scalar, boolean bf16, int m, int n, int k, char la, char lb,
            boolean accumulate, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        View va = View.of(m, k, la);
        View vb = View.of(k, n, lb);
        short[] a = new short[va.size()];
        short[] b = new short[vb.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = toHalf(bf16, (float) rnd.nextDouble(-2, 2));
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = toHalf(bf16, (float) rnd.nextDouble(-2, 2));
        }
        int cOff = 2;
        int ldc = n + 2;
        float[] c = randomFloats(cOff + (m - 1) * ldc + n + 1, rnd);
        double[] c0 = toDouble(c);
        if (scalar) {
            GemmScalar.hgemm(bf16, m, n, k, a, va.off(), va.rs(), va.cs(), b, vb.off(), vb.rs(), vb.cs(), c, cOff,
                    ldc, accumulate);
        } else {
            Gemm.hgemm(bf16, m, n, k, a, va.off(), va.rs(), va.cs(), b, vb.off(), vb.rs(), vb.cs(), c, cOff, ldc,
                    accumulate);
        }
        String what = (scalar ? "scalar " : "") + "hgemm bf16=" + bf16 + " m=" + m + " n=" + n + " k=" + k + " " + la
                + lb + " acc=" + accumulate;
        check(what, matrix(va, i -> GemmPacking.half(bf16, a[i])), matrix(vb, i -> GemmPacking.half(bf16, b[i])), c0,
                toDouble(c), cOff, ldc, accumulate, 1e-6);
    }

    @Property(tries = 30)
    void hgemmMatchesReference(@ForAll boolean bf16, @ForAll("dim") int m, @ForAll("dim") int n,
            @ForAll("dim") int k, @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate,
            @ForAll long seed) {
        hgemmCase(false, bf16, m, n, k, la, lb, accumulate, seed);
    }

    @Property(tries = 8)
    void scalarHgemmMatchesReference(@ForAll boolean bf16, @ForAll("dim") int m, @ForAll("dim") int n,
            @ForAll("dim") int k, @ForAll("layout") char la, @ForAll("layout") char lb, @ForAll boolean accumulate,
            @ForAll long seed) {
        hgemmCase(true, bf16, m, n, k, la, lb, accumulate, seed);
    }

    interface FloatKernel {
        void run(int kc, float[] a, int ai, float[] b, int bi, float[] c, int ci, int ldc, boolean add);
    }

    /**
     * Every float micro-kernel (not only the configured tile) and the double one, at the running
     * vector width, on packed panels against a double reference: store and add, with C padded.
     */
    @Test
    void everyMicroKernelMatchesReference() {
        record Tile(String name, int mr, int nv, FloatKernel kernel) {}
        Tile[] tiles = {new Tile("4x2", 4, 2, GemmKernels::s4x2), new Tile("5x2", 5, 2, GemmKernels::s5x2),
            new Tile("6x2", 6, 2, GemmKernels::s6x2), new Tile("3x3", 3, 3, GemmKernels::s3x3), new Tile("2x4", 2, 4, GemmKernels::s2x4)};
        SplittableRandom rnd = new SplittableRandom(11);
        int kc = 37;
        for (Tile t : tiles) {
            int nr = t.nv() * GemmKernels.FL;
            float[] a = randomFloats(3 + t.mr() * kc, rnd);
            float[] b = randomFloats(5 + nr * kc, rnd);
            int ldc = nr + 3;
            for (boolean add : new boolean[] {false, true}) {
                float[] c = randomFloats(2 + t.mr() * ldc, rnd);
                float[] c0 = c.clone();
                t.kernel().run(kc, a, 3, b, 5, c, 2, ldc, add);
                for (int i = 0; i < t.mr(); i++) {
                    for (int j = 0; j < ldc; j++) {
                        int at = 2 + i * ldc + j;
                        if (j >= nr) {
                            assertEquals(c0[at], c[at], t.name() + ": padding changed");
                            continue;
                        }
                        double want = add ? c0[at] : 0;
                        for (int p = 0; p < kc; p++) {
                            want += (double) a[3 + p * t.mr() + i] * b[5 + p * nr + j];
                        }
                        assertEquals(want, c[at], 1e-5 * kc, t.name() + " add=" + add + " C(" + i + "," + j + ")");
                    }
                }
            }
        }
        int nr = GemmKernels.D_NR;
        int mr = GemmKernels.D_MR;
        double[] a = rnd.doubles(mr * kc, -2, 2).toArray();
        double[] b = rnd.doubles(nr * kc, -2, 2).toArray();
        double[] c = rnd.doubles(mr * nr, -2, 2).toArray();
        double[] c0 = c.clone();
        GemmKernels.d4x2(kc, a, 0, b, 0, c, 0, nr, true);
        for (int i = 0; i < mr; i++) {
            for (int j = 0; j < nr; j++) {
                double want = c0[i * nr + j];
                for (int p = 0; p < kc; p++) {
                    want += a[p * mr + i] * b[p * nr + j];
                }
                assertEquals(want, c[i * nr + j], 1e-13 * kc, "d4x2 C(" + i + "," + j + ")");
            }
        }
    }

    @Test
    void halfConversionIsExact() {
        assertEquals(1.0f, GemmPacking.half(true, (short) 0x3F80));
        assertEquals(-2.0f, GemmPacking.half(true, (short) 0xC000));
        assertEquals(1.0f, GemmPacking.half(false, (short) 0x3C00));
        assertEquals(-2.0f, GemmPacking.half(false, (short) 0xC000));
        assertEquals(65504f, GemmPacking.half(false, (short) 0x7BFF));
    }

    @Test
    void bitwiseIdenticalForAnyThreadCount() {
        int saved = Parallel.threads();
        try {
            int m = 300;
            int n = 257;
            int k = 1100; // five depth blocks at KC = 256 (more with 16 lanes): the whole-depth path
            assertTrue((long) m * n * k >= GemmBlocked.PARALLEL_MIN_WORK, "size must take the threaded path");
            SplittableRandom rnd = new SplittableRandom(7);
            float[] a = randomFloats(m * k, rnd);
            float[] b = randomFloats(k * n, rnd);
            float[] c0 = randomFloats(m * n, rnd);
            String[] layouts = {"NN", "NT", "TN"};
            for (String layout : layouts) {
                boolean ta = layout.charAt(0) == 'T';
                boolean tb = layout.charAt(1) == 'T';
                for (boolean accumulate : new boolean[] {false, true}) {
                    float[][] results = new float[3][];
                    int[] threads = {1, 2, 3};
                    for (int t = 0; t < threads.length; t++) {
                        Parallel.setThreads(threads[t]);
                        float[] c = c0.clone();
                        Gemm.sgemm(m, n, k, a, 0, ta ? 1 : k, ta ? m : 1, b, 0, tb ? 1 : n, tb ? k : 1, c, 0, n,
                                accumulate);
                        results[t] = c;
                    }
                    assertArrayEquals(results[0], results[1], layout + " acc=" + accumulate + ": 1 vs 2 threads");
                    assertArrayEquals(results[0], results[2], layout + " acc=" + accumulate + ": 1 vs 3 threads");
                }
            }
            double[] da = toDouble(a);
            double[] db = toDouble(b);
            Parallel.setThreads(1);
            double[] d1 = new double[m * n];
            Gemm.dgemm(m, n, k, da, 0, k, 1, db, 0, n, 1, d1, 0, n, false);
            Parallel.setThreads(2);
            double[] d2 = new double[m * n];
            Gemm.dgemm(m, n, k, da, 0, k, 1, db, 0, n, 1, d2, 0, n, false);
            assertArrayEquals(d1, d2, "dgemm 1 vs 2 threads");
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void zeroSizes() {
        float[] c = {5f, 6f, 7f, 8f};
        Gemm.sgemm(2, 2, 0, new float[0], 0, 0, 1, new float[0], 0, 2, 1, c, 0, 2, true);
        assertArrayEquals(new float[] {5f, 6f, 7f, 8f}, c);
        Gemm.sgemm(2, 2, 0, new float[0], 0, 0, 1, new float[0], 0, 2, 1, c, 0, 2, false);
        assertArrayEquals(new float[4], c);
        Gemm.sgemm(0, 5, 3, new float[0], 0, 3, 1, new float[15], 0, 5, 1, new float[0], 0, 5, false);
    }

    private static String message(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void errorMessages() {
        float[] a = new float[6];
        float[] b = new float[6];
        float[] c = new float[4];
        String neg = message(() -> Gemm.sgemm(-1, 2, 3, a, 0, 3, 1, b, 0, 2, 1, c, 0, 2, false));
        assertEquals("sgemm (m=-1, n=2, k=3): sizes must be >= 0", neg);

        String shortA = message(() -> Gemm.sgemm(2, 2, 4, a, 0, 4, 1, new float[8], 0, 2, 1, c, 0, 2, false));
        assertTrue(shortA.startsWith("sgemm (m=2, n=2, k=4): a (length 6) is too short"), shortA);
        assertTrue(shortA.contains("aRowStride=4"), shortA);

        String shortB = message(() -> Gemm.sgemm(2, 2, 3, a, 0, 3, 1, b, 1, 2, 1, c, 0, 2, false));
        assertTrue(shortB.startsWith("sgemm (m=2, n=2, k=3): b (length 6) is too short"), shortB);

        String shortC = message(() -> Gemm.sgemm(2, 2, 3, a, 0, 3, 1, b, 0, 2, 1, c, 1, 2, false));
        assertTrue(shortC.startsWith("sgemm (m=2, n=2, k=3): c (length 4) is too short"), shortC);

        String ldc = message(() -> Gemm.sgemm(2, 2, 3, a, 0, 3, 1, b, 0, 2, 1, c, 0, 1, false));
        assertEquals("sgemm (m=2, n=2, k=3): ldc=1 is less than n (rows of c would overlap)", ldc);

        String nul = message(() -> Gemm.sgemm(2, 2, 3, null, 0, 3, 1, b, 0, 2, 1, c, 0, 2, false));
        assertEquals("sgemm (m=2, n=2, k=3): array a is null", nul);

        String negOff = message(() -> Gemm.sgemm(2, 2, 3, a, -1, 3, 1, b, 0, 2, 1, c, 0, 2, false));
        assertTrue(negOff.contains("reach indices -1.."), negOff);

        String d = message(() -> Gemm.dgemm(2, 2, 3, new double[5], 0, 3, 1, new double[6], 0, 2, 1,
                new double[4], 0, 2, false));
        assertTrue(d.startsWith("dgemm (m=2, n=2, k=3): a (length 5)"), d);
        String h = message(() -> Gemm.hgemm(true, 2, 2, 3, new short[6], 0, 3, 1, new short[5], 0, 2, 1,
                new float[4], 0, 2, false));
        assertTrue(h.startsWith("hgemm (m=2, n=2, k=3): b (length 5)"), h);
        for (String msg : new String[] {neg, shortA, shortB, shortC, ldc, nul, negOff, d, h}) {
            assertTrue(!msg.contains("\n"), "one-line message: " + msg);
        }
    }

    @Test
    void transposedViewsWithoutCopy() {
        // (A^T)^T * B computed from the storage of A^T with swapped strides equals the plain product
        SplittableRandom rnd = new SplittableRandom(3);
        int m = 37;
        int k = 29;
        int n = 41;
        float[] a = randomFloats(m * k, rnd);
        float[] at = new float[k * m];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                at[p * m + i] = a[i * k + p];
            }
        }
        float[] b = randomFloats(k * n, rnd);
        float[] c1 = new float[m * n];
        float[] c2 = new float[m * n];
        Gemm.sgemm(m, n, k, a, 0, k, 1, b, 0, n, 1, c1, 0, n, false);
        Gemm.sgemm(m, n, k, at, 0, 1, m, b, 0, n, 1, c2, 0, n, false);
        assertArrayEquals(c1, c2, "packing makes the product independent of A's layout");
    }
}
