package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.junit.jupiter.api.Test;

/**
 * Indexing ops against naive references written here with plain loops over row-major double arrays.
 * Inputs come in three layouts (contiguous, transposed storage, stepped slice) so the kernels' stride
 * handling is exercised; shapes include size-0 and size-1 dims. Values are small integers, exact in
 * every dtype, so comparisons are exact.
 */
class IndexingTest {
    private static final DType[] VALUE_TYPES = {DType.F32, DType.F64, DType.BF16, DType.F16, DType.I32, DType.I64};

    // ---------------------------------------------------------------- helpers

    /** A tensor, its logical row-major values and shape. */
    record T(Tensor t, double[] v, int[] shape) {}

    static int[] randomShape(SplittableRandom r, int minRank, int maxRank) {
        int rank = minRank + r.nextInt(maxRank - minRank + 1);
        int[] s = new int[rank];
        for (int i = 0; i < rank; i++) {
            s[i] = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(4);
        }
        return s;
    }

    static T randomTensor(SplittableRandom r, int[] shape, DType dtype, int lo, int hi) {
        double[] v = new double[(int) Shapes.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = lo + r.nextInt(hi - lo + 1);
        }
        return new T(layout(Tensor.of(v, shape).to(dtype), r.nextInt(3)), v, shape);
    }

    /** The same logical tensor, laid out contiguously (0), with reversed-dim storage (1), or as a stepped slice (2). */
    static Tensor layout(Tensor c, int layout) {
        int[] s = c.shape();
        if (layout == 1 && s.length >= 2) {
            int[] rev = new int[s.length];
            for (int i = 0; i < rev.length; i++) {
                rev[i] = s.length - 1 - i;
            }
            Tensor t = c.permute(rev).contiguous().permute(rev);
            assertTrue(!t.isContiguous() || t.numel() <= 1 || countNonUnit(s) <= 1);
            return t;
        }
        if (layout >= 1 && s.length >= 1) {
            int[] big = s.clone();
            big[0] = 2 * s[0] + 1;
            Tensor b = Tensor.full(-999, c.dtype(), big);
            b.slice(0, 1, big[0], 2).copyFromInPlace(c);
            return b.slice(0, 1, big[0], 2);
        }
        return c;
    }

    private static int countNonUnit(int[] s) {
        int n = 0;
        for (int x : s) {
            n += x == 1 ? 0 : 1;
        }
        return n;
    }

    static Tensor indexTensor(SplittableRandom r, long[] values, int[] shape) {
        Tensor t = Tensor.of(values, shape);
        return layout(r.nextBoolean() ? t : t.to(DType.I32), r.nextInt(3));
    }

    static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    static int ravel(int[] idx, int[] shape) {
        int f = 0;
        for (int d = 0; d < shape.length; d++) {
            f = f * shape[d] + idx[d];
        }
        return f;
    }

    /** {@code v} rounded through {@code dtype}, as the op's result would be stored. */
    static double[] roundTo(double[] v, DType dtype) {
        return Tensor.of(v, v.length).to(dtype).toDoubleArray();
    }

    static void assertTensor(double[] expected, int[] shape, DType dtype, Tensor actual) {
        assertArrayEquals(shape, actual.shape(), "shape");
        assertEquals(dtype, actual.dtype(), "dtype");
        assertArrayEquals(expected, actual.toDoubleArray(), 0.0);
    }

    static DType anyType(SplittableRandom r) {
        return VALUE_TYPES[r.nextInt(VALUE_TYPES.length)];
    }

    // ---------------------------------------------------------------- index_select, embedding

    @Property(tries = 80)
    void indexSelectMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = randomShape(r, 1, 3);
        DType dt = anyType(r);
        T x = randomTensor(r, xs, dt, -50, 50);
        int d = r.nextInt(xs.length);
        int k = xs[d] == 0 ? 0 : r.nextInt(6);
        long[] idx = new long[k];
        for (int i = 0; i < k; i++) {
            idx[i] = r.nextInt(xs[d]);
        }
        Tensor out = Indexing.indexSelect(x.t, d - (r.nextBoolean() ? xs.length : 0), indexTensor(r, idx, new int[] {k}));
        int[] os = xs.clone();
        os[d] = k;
        double[] expected = new double[(int) Shapes.numel(os)];
        for (int p = 0; p < expected.length; p++) {
            int[] c = unravel(p, os);
            c[d] = (int) idx[c[d]];
            expected[p] = x.v[ravel(c, xs)];
        }
        assertTensor(expected, os, dt, out);
    }

    @Property(tries = 50)
    void embeddingMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int rows = 1 + r.nextInt(6);
        int dim = r.nextInt(5);
        DType dt = anyType(r);
        T w = randomTensor(r, new int[] {rows, dim}, dt, -50, 50);
        int[] is = randomShape(r, 0, 3);
        long[] ids = new long[(int) Shapes.numel(is)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(rows);
        }
        Tensor out = Indexing.embedding(w.t, indexTensor(r, ids, is));
        int[] os = Arrays.copyOf(is, is.length + 1);
        os[is.length] = dim;
        double[] expected = new double[ids.length * dim];
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < dim; j++) {
                expected[i * dim + j] = w.v[(int) ids[i] * dim + j];
            }
        }
        assertTensor(expected, os, dt, out);
    }

    @Test
    void readsMemorySegmentStorage() {
        ByteBuffer bb = ByteBuffer.allocate(6 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            bb.putFloat(i + 0.5f);
        }
        Tensor x = Tensor.of(Storage.ofSegment(DType.F32, MemorySegment.ofArray(bb.array())), 2, 3);
        assertArrayEquals(new float[] {2.5f, 0.5f, 5.5f, 3.5f},
                Indexing.indexSelect(x, 1, Tensor.of(new long[] {2, 0})).toFloatArray());
        assertArrayEquals(new float[] {0.5f, 4.5f},
                Indexing.gather(x, 0, Tensor.of(new long[] {0, 1}, 1, 2)).toFloatArray());
    }

    // ---------------------------------------------------------------- gather

    @Property(tries = 100)
    void gatherMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = randomShape(r, 1, 3);
        DType dt = anyType(r);
        T x = randomTensor(r, xs, dt, -50, 50);
        int d = r.nextInt(xs.length);
        int[] is = new int[xs.length];
        for (int k = 0; k < xs.length; k++) {
            is[k] = k == d ? (xs[d] == 0 ? 0 : r.nextInt(5)) : r.nextInt(xs[k] + 1);
        }
        long[] idx = new long[(int) Shapes.numel(is)];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(xs[d]);
        }
        Tensor out = Indexing.gather(x.t, d - (r.nextBoolean() ? xs.length : 0), indexTensor(r, idx, is));
        double[] expected = new double[idx.length];
        for (int p = 0; p < idx.length; p++) {
            int[] c = unravel(p, is);
            c[d] = (int) idx[p];
            expected[p] = x.v[ravel(c, xs)];
        }
        assertTensor(expected, is, dt, out);
    }

    @Test
    void gatherOfScalars() {
        Tensor out = Indexing.gather(Tensor.scalar(4, DType.F64), 0, Tensor.scalar(0, DType.I64));
        assertArrayEquals(new int[0], out.shape());
        assertEquals(4.0, out.item());
    }

    // ---------------------------------------------------------------- scatter, scatter_add

    /** Random x, index (no larger than src; values along d in range) and src for scatter tests. */
    private record ScatterCase(T x, int d, int[] is, long[] idx, Tensor index, T src) {}

    private static ScatterCase scatterCase(SplittableRandom r, DType dt) {
        int[] xs = randomShape(r, 1, 3);
        T x = randomTensor(r, xs, dt, -20, 20);
        int d = r.nextInt(xs.length);
        int[] is = new int[xs.length];
        int[] ss = new int[xs.length];
        for (int k = 0; k < xs.length; k++) {
            is[k] = k == d ? (xs[d] == 0 ? 0 : r.nextInt(5)) : r.nextInt(xs[k] + 1);
            ss[k] = is[k] + r.nextInt(2);
        }
        long[] idx = new long[(int) Shapes.numel(is)];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = r.nextInt(xs[d]);
        }
        return new ScatterCase(x, d, is, idx, indexTensor(r, idx, is), randomTensor(r, ss, dt, -20, 20));
    }

    @Property(tries = 100)
    void scatterMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        DType dt = anyType(r);
        ScatterCase s = scatterCase(r, dt);
        Tensor before = s.x.t.copy();
        Tensor out = Indexing.scatter(s.x.t, s.d, s.index, s.src.t);
        double[] expected = s.x.v.clone();
        for (int p = 0; p < s.idx.length; p++) { // row-major: along d, the later entry wins
            int[] c = unravel(p, s.is);
            double v = s.src.v[ravel(c, s.src.shape)];
            c[s.d] = (int) s.idx[p];
            expected[ravel(c, s.x.shape)] = v;
        }
        assertTensor(expected, s.x.shape, dt, out);
        if (before.numel() > 0) {
            assertArrayEquals(before.toDoubleArray(), s.x.t.toDoubleArray(), 0.0, "input unchanged");
        }
    }

    @Property(tries = 100)
    void scatterAddMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        DType dt = anyType(r);
        ScatterCase s = scatterCase(r, dt);
        Tensor out = Indexing.scatterAdd(s.x.t, s.d - s.x.shape.length, s.index, s.src.t);
        double[] expected = s.x.v.clone();
        for (int p = 0; p < s.idx.length; p++) {
            int[] c = unravel(p, s.is);
            double v = s.src.v[ravel(c, s.src.shape)];
            c[s.d] = (int) s.idx[p];
            expected[ravel(c, s.x.shape)] += v;
        }
        assertTensor(roundTo(expected, dt), s.x.shape, dt, out);
    }

    @Test
    void scatterValueAndBool() {
        Tensor x = Tensor.zeros(DType.F32, 2, 3);
        Tensor out = Indexing.scatter(x, 1, Tensor.of(new long[] {2, 0}, 2, 1), 7.0);
        assertArrayEquals(new float[] {0, 0, 7, 7, 0, 0}, out.toFloatArray());
        Tensor b = Tensor.of(new boolean[] {false, false, false});
        Tensor sb = Indexing.scatterAdd(b, 0, Tensor.of(new long[] {1, 1}), Tensor.of(new boolean[] {true, true}));
        assertEquals(DType.BOOL, sb.dtype());
        assertArrayEquals(new double[] {0, 1, 0}, sb.toDoubleArray(), 0.0);
    }

    @Test
    void scatterAddIsIdenticalForAnyThreadCount() {
        SplittableRandom r = new SplittableRandom(11);
        int rows = 300;
        int cols = 400;
        float[] x = new float[rows * cols];
        float[] src = new float[rows * cols];
        long[] idx = new long[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
            src[i] = (float) (r.nextGaussian() * 1e3);
            idx[i] = r.nextInt(cols / 20); // heavy collisions along dim 1
        }
        Tensor xt = Tensor.of(x, rows, cols);
        Tensor st = Tensor.of(src, rows, cols);
        Tensor it = Tensor.of(idx, rows, cols);
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] one = Indexing.scatterAdd(xt, 1, it, st).toFloatArray();
            float[] oneCol = Indexing.scatterAdd(xt, 0, it, st).toFloatArray();
            Parallel.setThreads(3);
            assertArrayEquals(one, Indexing.scatterAdd(xt, 1, it, st).toFloatArray());
            assertArrayEquals(oneCol, Indexing.scatterAdd(xt, 0, it, st).toFloatArray());
        } finally {
            Parallel.setThreads(saved);
        }
    }

    // ---------------------------------------------------------------- one_hot

    @Property(tries = 40)
    void oneHotMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] is = randomShape(r, 0, 3);
        long[] ids = new long[(int) Shapes.numel(is)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextInt(5);
        }
        boolean infer = ids.length > 0 && r.nextBoolean();
        int classes = infer ? (int) Arrays.stream(ids).max().getAsLong() + 1 : 5 + r.nextInt(2);
        Tensor out = Indexing.oneHot(indexTensor(r, ids, is), infer ? -1 : classes);
        int[] os = Arrays.copyOf(is, is.length + 1);
        os[is.length] = classes;
        double[] expected = new double[ids.length * classes];
        for (int i = 0; i < ids.length; i++) {
            expected[i * classes + (int) ids[i]] = 1;
        }
        assertTensor(expected, os, DType.I64, out);
    }

    // ---------------------------------------------------------------- sort, argsort, topk

    /** Stable order of one line: positions sorted by value (NaN largest), ties by position. */
    static List<Integer> stableOrder(double[] line, boolean descending) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < line.length; i++) {
            order.add(i);
        }
        order.sort((a, b) -> {
            double x = line[a] == 0 ? 0 : line[a];
            double y = line[b] == 0 ? 0 : line[b];
            return descending ? Double.compare(y, x) : Double.compare(x, y); // List.sort is stable
        });
        return order;
    }

    /** Reference for sort/topk: the first k of the stable order of each line along d. */
    static double[][] sortReference(T x, int d, boolean descending, int k) {
        int[] os = x.shape.clone();
        os[d] = k;
        int n = x.shape[d];
        double[] values = new double[(int) Shapes.numel(os)];
        double[] indices = new double[values.length];
        for (int p = 0; p < values.length; p++) {
            int[] c = unravel(p, os);
            if (c[d] != 0) {
                continue;
            }
            double[] line = new double[n];
            for (int i = 0; i < n; i++) {
                c[d] = i;
                line[i] = x.v[ravel(c, x.shape)];
            }
            List<Integer> order = stableOrder(line, descending);
            for (int j = 0; j < k; j++) {
                c[d] = j;
                values[ravel(c, os)] = line[order.get(j)];
                indices[ravel(c, os)] = order.get(j);
            }
        }
        return new double[][] {values, indices};
    }

    @Property(tries = 100)
    void sortIsStableAndMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = randomShape(r, 1, 3);
        DType dt = anyType(r);
        T x = randomTensor(r, xs, dt, -3, 3); // few distinct values: many ties
        int d = r.nextInt(xs.length);
        boolean desc = r.nextBoolean();
        Indexing.Sorted s = Indexing.sort(x.t, d, desc);
        double[][] ref = sortReference(x, d, desc, xs[d]);
        assertTensor(ref[0], xs, dt, s.values());
        assertTensor(ref[1], xs, DType.I64, s.indices());
        assertTensor(ref[1], xs, DType.I64, Indexing.argsort(x.t, d - xs.length, desc));
    }

    @Property(tries = 100)
    void topkMatchesReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = randomShape(r, 1, 3);
        DType dt = anyType(r);
        T x = randomTensor(r, xs, dt, -3, 3);
        int d = r.nextInt(xs.length);
        int k = r.nextInt(xs[d] + 1);
        boolean largest = r.nextBoolean();
        Indexing.TopK t = Indexing.topk(x.t, k, d, largest, r.nextBoolean());
        double[][] ref = sortReference(x, d, largest, k);
        int[] os = xs.clone();
        os[d] = k;
        assertTensor(ref[0], os, dt, t.values());
        assertTensor(ref[1], os, DType.I64, t.indices());
    }

    @Property(tries = 40)
    void topkOfLongLinesSelectsLikeAStableSort(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = {1 + r.nextInt(3), 20 + r.nextInt(300)};
        DType dt = anyType(r);
        T x = randomTensor(r, xs, dt, -5, 5);
        int k = r.nextInt(xs[1] / 4 + 2);
        boolean largest = r.nextBoolean();
        Indexing.TopK t = Indexing.topk(x.t, k, 1, largest, true);
        double[][] ref = sortReference(x, 1, largest, k);
        assertTensor(ref[0], new int[] {xs[0], k}, dt, t.values());
        assertTensor(ref[1], new int[] {xs[0], k}, DType.I64, t.indices());
    }

    @Test
    void sortPlacesNanLargestAndTreatsSignedZerosAsEqual() {
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16}) {
            Tensor x = Tensor.of(new double[] {3, Double.NaN, -1, Double.NaN, 2, -0.0, 0.0, Double.NEGATIVE_INFINITY}).to(dt);
            Indexing.Sorted up = Indexing.sort(x, 0, false);
            assertArrayEquals(new long[] {7, 2, 5, 6, 4, 0, 1, 3}, up.indices().toLongArray(), dt.toString());
            Indexing.Sorted down = Indexing.sort(x, 0, true);
            assertArrayEquals(new long[] {1, 3, 0, 4, 5, 6, 2, 7}, down.indices().toLongArray(), dt.toString());
            assertTrue(Double.isNaN(down.values().toDoubleArray()[0]));
            assertArrayEquals(new long[] {1, 3, 0}, Indexing.topk(x, 3, 0, true, true).indices().toLongArray());
        }
    }

    @Test
    void sortLongLinesAndExtremeIntegers() {
        SplittableRandom r = new SplittableRandom(5);
        long[] v = new long[5000];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (r.nextInt(4)) {
                case 0 -> Long.MIN_VALUE;
                case 1 -> Long.MAX_VALUE;
                default -> r.nextLong(-1000, 1000);
            };
        }
        long[] idx = Indexing.argsort(Tensor.of(v), 0, false).toLongArray();
        for (int i = 1; i < v.length; i++) {
            long a = v[(int) idx[i - 1]];
            long b = v[(int) idx[i]];
            assertTrue(a < b || a == b && idx[i - 1] < idx[i], "position " + i);
        }
    }

    @Test
    void sortOfScalarAndTopkOfScalar() {
        Indexing.Sorted s = Indexing.sort(Tensor.scalar(2), 0, false);
        assertArrayEquals(new int[0], s.values().shape());
        assertEquals(0, s.indices().getLong());
        Indexing.TopK t = Indexing.topk(Tensor.scalar(2), 1, -1, true, true);
        assertEquals(2.0, t.values().item());
    }

    // ---------------------------------------------------------------- tril, triu

    @Property(tries = 60)
    void trilTriuMatchReference(@ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] xs = randomShape(r, 2, 3);
        DType dt = r.nextInt(7) == 0 ? DType.BOOL : anyType(r);
        T x = randomTensor(r, xs, dt, dt == DType.BOOL ? 0 : -9, dt == DType.BOOL ? 1 : 9);
        int diag = r.nextInt(9) - 4;
        int rows = xs[xs.length - 2];
        int cols = xs[xs.length - 1];
        double[] lower = new double[x.v.length];
        double[] upper = new double[x.v.length];
        for (int p = 0; p < x.v.length; p++) {
            int i = (p / cols) % rows;
            int j = p % cols;
            lower[p] = j - i <= diag ? x.v[p] : 0;
            upper[p] = j - i >= diag ? x.v[p] : 0;
        }
        assertTensor(lower, xs, dt, Indexing.tril(x.t, diag));
        assertTensor(upper, xs, dt, Indexing.triu(x.t, diag));
    }

    @Test
    void trilMaskIsCausal() {
        Tensor m = Indexing.trilMask(3, 4, 0);
        assertEquals(DType.BOOL, m.dtype());
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0}, m.toDoubleArray(), 0.0);
        assertArrayEquals(new double[] {1, 1, 0, 1, 1, 1}, Indexing.trilMask(2, 3, 1).toDoubleArray(), 0.0);
        assertArrayEquals(new double[] {0, 0, 1, 0}, Indexing.trilMask(2, 2, -1).toDoubleArray(), 0.0);
        assertArrayEquals(new int[] {0, 3}, Indexing.trilMask(0, 3, 0).shape());
    }

    // ---------------------------------------------------------------- multinomial

    @Test
    void multinomialIsReproducible() {
        Tensor p = Tensor.of(new float[] {1, 2, 3, 0, 4, 0.5f, 0.5f, 0, 0, 1}, 2, 5);
        long[] a = Indexing.multinomial(p, 50, true, new Generator(42)).toLongArray();
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            assertArrayEquals(a, Indexing.multinomial(p, 50, true, new Generator(42)).toLongArray());
            assertArrayEquals(Indexing.multinomial(p, 3, false, new Generator(7)).toLongArray(),
                    withThreads(3, () -> Indexing.multinomial(p, 3, false, new Generator(7)).toLongArray()));
        } finally {
            Parallel.setThreads(saved);
        }
        assertNotEquals(Arrays.toString(a), Arrays.toString(Indexing.multinomial(p, 50, true, new Generator(43)).toLongArray()));
    }

    private static long[] withThreads(int n, java.util.function.Supplier<long[]> body) {
        int saved = Parallel.threads();
        Parallel.setThreads(n);
        try {
            return body.get();
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /** Pearson's statistic over the categories with positive expected count. */
    private static double chiSquare(long[] counts, double[] w, long total) {
        double sum = Arrays.stream(w).sum();
        double stat = 0;
        for (int c = 0; c < w.length; c++) {
            if (w[c] > 0) {
                double e = total * w[c] / sum;
                stat += (counts[c] - e) * (counts[c] - e) / e;
            }
        }
        return stat;
    }

    @Test
    void multinomialWithReplacementFollowsTheWeights() {
        double[] w = {1, 2, 3, 0, 4, 0.25};
        int draws = 20000;
        long[] s = Indexing.multinomial(Tensor.of(w), draws, true, new Generator(2024)).toLongArray();
        long[] counts = new long[w.length];
        for (long c : s) {
            counts[(int) c]++;
        }
        assertEquals(0, counts[3], "zero-weight category drawn");
        double critical = new ChiSquaredDistribution(w.length - 2).inverseCumulativeProbability(0.999);
        assertTrue(chiSquare(counts, w, draws) < critical, Arrays.toString(counts));
    }

    @Test
    void multinomialWithoutReplacementDrawsDistinctCategoriesInWeightOrder() {
        double[] w = {5, 0, 1, 2, 0, 2};
        int rows = 3000;
        double[] p = new double[rows * w.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(w, 0, p, r * w.length, w.length);
        }
        Tensor probs = Tensor.of(p, rows, w.length).to(DType.F32).mT().contiguous().mT(); // non-contiguous rows
        long[] s = Indexing.multinomial(probs, 4, false, new Generator(99)).toLongArray();
        long[] first = new long[w.length];
        for (int r = 0; r < rows; r++) {
            Set<Long> seen = new HashSet<>();
            for (int j = 0; j < 4; j++) {
                long c = s[r * 4 + j];
                assertTrue(w[(int) c] > 0, "zero-weight category drawn");
                assertTrue(seen.add(c), "repeated category in row " + r);
            }
            first[(int) s[r * 4]]++;
        }
        // the first draw of each row is an ordinary weighted draw
        double critical = new ChiSquaredDistribution(3).inverseCumulativeProbability(0.999);
        assertTrue(chiSquare(first, w, rows) < critical, Arrays.toString(first));
    }

    @Test
    void multinomialWithoutReplacementPrefixesAgree() {
        SplittableRandom r = new SplittableRandom(6);
        double[] w = new double[100];
        for (int i = 0; i < w.length; i++) {
            w[i] = i % 7 == 0 ? 0 : r.nextDouble();
        }
        Tensor p = Tensor.of(w, 2, 50);
        long[] few = Indexing.multinomial(p, 5, false, new Generator(12)).toLongArray(); // heap selection
        long[] many = Indexing.multinomial(p, 40, false, new Generator(12)).toLongArray(); // full sort
        for (int row = 0; row < 2; row++) {
            for (int j = 0; j < 5; j++) {
                assertEquals(many[row * 40 + j], few[row * 5 + j]);
            }
        }
    }

    // ---------------------------------------------------------------- errors

    private static void assertMessage(Class<? extends Throwable> type, String message, Runnable r) {
        Throwable t = assertThrows(type, r::run);
        assertEquals(message, t.getMessage());
    }

    @Test
    void errorsNameTheOpAndTheProblem() {
        Tensor x = Tensor.zeros(2, 5);
        Tensor i64 = Tensor.of(new long[] {0, 7}, 1, 2);
        assertMessage(IndexOutOfBoundsException.class, "gather: index 7 out of range for dim 1 of size 5",
                () -> Indexing.gather(x, 1, i64));
        assertMessage(IndexOutOfBoundsException.class, "gather: index -1 out of range for dim -1 of size 5",
                () -> Indexing.gather(x, -1, Tensor.of(new long[] {-1}, 1, 1)));
        assertMessage(IllegalArgumentException.class, "gather: dim 2 out of range for a 2-d tensor",
                () -> Indexing.gather(x, 2, i64));
        assertMessage(IllegalArgumentException.class, "gather: index must be I32 or I64, got F32",
                () -> Indexing.gather(x, 1, Tensor.zeros(1, 2)));
        assertMessage(IllegalArgumentException.class, "gather: index shape [2] and input shape [2, 5] must have the same number of dims",
                () -> Indexing.gather(x, 1, Tensor.of(new long[] {0, 1})));
        assertMessage(IllegalArgumentException.class, "gather: index shape [3, 1] exceeds input shape [2, 5] at dim 0",
                () -> Indexing.gather(x, 1, Tensor.zeros(DType.I64, 3, 1)));
        assertMessage(IndexOutOfBoundsException.class, "index_select: index 2 out of range for dim 0 of size 2",
                () -> Indexing.indexSelect(x, 0, Tensor.of(new int[] {2})));
        assertMessage(IllegalArgumentException.class, "index_select: index must be 1-d, got shape [1, 2]",
                () -> Indexing.indexSelect(x, 0, i64));
        assertMessage(IndexOutOfBoundsException.class, "scatter: index 7 out of range for dim 1 of size 5",
                () -> Indexing.scatter(x, 1, i64, Tensor.zeros(1, 2)));
        assertMessage(IllegalArgumentException.class, "scatter_add: src dtype F64 must match input dtype F32",
                () -> Indexing.scatterAdd(x, 1, i64, Tensor.zeros(DType.F64, 1, 2)));
        assertMessage(IllegalArgumentException.class, "scatter_add: index shape [1, 2] exceeds src shape [1, 1] at dim 1",
                () -> Indexing.scatterAdd(x, 1, Tensor.zeros(DType.I64, 1, 2), Tensor.zeros(1, 1)));
        assertMessage(IllegalArgumentException.class,
                "scatter: input [2, 5], index [1, 2] and src [2] must have the same number of dims",
                () -> Indexing.scatter(x, 1, i64, Tensor.zeros(2)));
        assertMessage(IndexOutOfBoundsException.class, "embedding: index 3 out of range for dim 0 of size 2",
                () -> Indexing.embedding(x, Tensor.of(new long[] {1, 3})));
        assertMessage(IllegalArgumentException.class, "embedding: weight must be 2-d [numEmbeddings, dim], got shape [5]",
                () -> Indexing.embedding(Tensor.zeros(5), Tensor.of(new long[] {1})));
        assertMessage(IllegalArgumentException.class, "embedding_backward: gradient [3, 4] must be ids [2] plus an embedding dim",
                () -> Indexing.embeddingBackward(Tensor.zeros(3, 4), Tensor.of(new long[] {0, 1}), 2));
        assertMessage(IndexOutOfBoundsException.class, "embedding_backward: index 2 out of range for dim 0 of size 2",
                () -> Indexing.embeddingBackward(Tensor.zeros(2, 4), Tensor.of(new long[] {0, 2}), 2));
        assertMessage(IllegalArgumentException.class, "one_hot: class value 5 out of range for 5 classes",
                () -> Indexing.oneHot(Tensor.of(new long[] {5}), 5));
        assertMessage(IllegalArgumentException.class, "one_hot: class values must be non-negative, got -2",
                () -> Indexing.oneHot(Tensor.of(new long[] {-2}), -1));
        assertMessage(IllegalArgumentException.class, "topk: k 6 out of range for dim 1 of size 5",
                () -> Indexing.topk(x, 6, 1, true, true));
        assertMessage(IllegalArgumentException.class, "sort: dim -3 out of range for a 2-d tensor",
                () -> Indexing.sort(x, -3, false));
        assertMessage(IllegalArgumentException.class, "tril: needs at least 2 dims, got shape [5]",
                () -> Indexing.tril(Tensor.zeros(5), 0));
        assertMessage(IllegalArgumentException.class, "multinomial: weight -1.0 at row 0, category 1 is negative, NaN or infinite",
                () -> Indexing.multinomial(Tensor.of(new float[] {1, -1}), 1, true, new Generator(1)));
        assertMessage(IllegalArgumentException.class,
                "multinomial: cannot draw 2 samples without replacement from row 1 with only 1 non-zero categories",
                () -> Indexing.multinomial(Tensor.of(new float[] {1, 1, 0, 3}, 2, 2), 2, false, new Generator(1)));
        assertMessage(IllegalArgumentException.class, "multinomial: row 0 has total weight 0.0; it must be positive and finite",
                () -> Indexing.multinomial(Tensor.zeros(3), 1, true, new Generator(1)));
        assertMessage(IllegalArgumentException.class, "multinomial: probs must be floating, got I64",
                () -> Indexing.multinomial(Tensor.of(new long[] {1, 2}), 1, true, new Generator(1)));
    }

    @Test
    void generatorIsUntouchedOnInvalidInput() {
        Generator g = new Generator(3);
        long state = g.state();
        assertThrows(IllegalArgumentException.class, () -> Indexing.multinomial(Tensor.of(new float[] {1, Float.NaN}), 1, true, g));
        assertEquals(state, g.state());
    }
}
