package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Reductions against naive double loops. The tolerance scales with the reduction length n:
 * a float sum of n terms may be off by about n·ε·Σ|x|.
 */
class ReductionTest {

    /** The groups of input elements reduced into each output element, in output row-major order. */
    static List<double[]> groups(Tensor x, boolean[] reduced) {
        int[] shape = x.shape();
        List<Integer> keptDims = new ArrayList<>();
        for (int d = 0; d < shape.length; d++) {
            if (!reduced[d]) {
                keptDims.add(d);
            }
        }
        long outN = 1;
        long inN = 1;
        for (int d = 0; d < shape.length; d++) {
            if (reduced[d]) {
                inN *= shape[d];
            } else {
                outN *= shape[d];
            }
        }
        List<List<Double>> acc = new ArrayList<>();
        for (long i = 0; i < outN; i++) {
            acc.add(new ArrayList<>());
        }
        double[] v = Ref.values(x);
        for (int i = 0; i < v.length; i++) {
            int[] idx = Ref.unravel(i, shape);
            long out = 0;
            for (int d : keptDims) {
                out = out * shape[d] + idx[d];
            }
            acc.get((int) out).add(v[i]);
        }
        List<double[]> result = new ArrayList<>();
        for (List<Double> g : acc) {
            result.add(g.stream().mapToDouble(Double::doubleValue).toArray());
        }
        return result;
    }

    static int[] dimsOf(boolean[] mask) {
        return java.util.stream.IntStream.range(0, mask.length).filter(d -> mask[d]).toArray();
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Ref.shapes().filter(s -> s.length >= 1);
    }

    @Provide
    Arbitrary<Integer> masks() {
        return Arbitraries.integers().between(0, 15);
    }

    enum Kind { SUM, MEAN, PROD, MAX, MIN, VAR, STD, LOGSUMEXP, NORM2, NORM1 }

    static double reference(Kind k, double[] g) {
        ToDoubleFunction<double[]> sum = a -> { double s = 0; for (double x : a) s += x; return s; };
        return switch (k) {
            case SUM -> sum.applyAsDouble(g);
            case MEAN -> sum.applyAsDouble(g) / g.length;
            case PROD -> { double p = 1; for (double x : g) p *= x; yield p; }
            case MAX -> { double m = Double.NEGATIVE_INFINITY; for (double x : g) m = Math.max(m, x); yield m; }
            case MIN -> { double m = Double.POSITIVE_INFINITY; for (double x : g) m = Math.min(m, x); yield m; }
            case VAR, STD -> {
                double mean = sum.applyAsDouble(g) / g.length;
                double ss = 0;
                for (double x : g) ss += (x - mean) * (x - mean);
                double var = ss / (g.length - 1);
                yield k == Kind.VAR ? var : Math.sqrt(var);
            }
            case LOGSUMEXP -> { double s = 0; for (double x : g) s += Math.exp(x); yield Math.log(s); }
            case NORM2 -> { double s = 0; for (double x : g) s += x * x; yield Math.sqrt(s); }
            case NORM1 -> { double s = 0; for (double x : g) s += Math.abs(x); yield s; }
        };
    }

    static Tensor apply(Kind k, Tensor x, int[] dims, boolean keep) {
        return switch (k) {
            case SUM -> x.sum(keep, dims);
            case MEAN -> x.mean(keep, dims);
            case PROD -> x.prod(keep, dims);
            case MAX -> x.max(keep, dims);
            case MIN -> x.min(keep, dims);
            case VAR -> x.var(1, keep, dims);
            case STD -> x.std(1, keep, dims);
            case LOGSUMEXP -> x.logsumexp(keep, dims);
            case NORM2 -> x.norm(2, keep, dims);
            case NORM1 -> x.norm(1, keep, dims);
        };
    }

    @Property(tries = 400)
    void reductionsMatchReference(@ForAll Kind kind, @ForAll("shapes") int[] shape, @ForAll("masks") int mask,
            @ForAll boolean keep, @ForAll Ref.Layout layout, @ForAll long seed, @ForAll boolean f64) {
        boolean[] reduced = new boolean[shape.length];
        for (int d = 0; d < shape.length; d++) {
            reduced[d] = (mask >> d & 1) == 1;
        }
        int[] dims = dimsOf(reduced);
        boolean[] effective = dims.length == 0 ? allTrue(shape.length) : reduced;
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
            n *= effective[d] ? shape[d] : 1;
        }
        boolean needsElements = kind == Kind.MAX || kind == Kind.MIN || kind == Kind.MEAN;
        if ((needsElements && n == 0) || ((kind == Kind.VAR || kind == Kind.STD) && n < 2)) {
            return; // undefined (error or NaN); covered by the explicit tests below
        }
        double lo = kind == Kind.PROD ? 0.5 : -2;
        double hi = kind == Kind.PROD ? 1.5 : 2;
        DType dt = f64 ? DType.F64 : DType.F32;
        Tensor x = Ref.make(shape, seed, layout, dt, lo, hi);
        Tensor y = apply(kind, x, dims, keep);
        List<double[]> groups = groups(x, effective);
        double[] expected = new double[groups.size()];
        double scale = 0;
        double eps = f64 ? 0x1p-52 : Ref.F32_EPS;
        double rtol = 4 * eps * Math.max(1, n);
        for (int i = 0; i < expected.length; i++) {
            double exact = reference(kind, groups.get(i));
            // A float result is the double result rounded to float: a product past Float.MAX_VALUE is
            // infinite (an expanded layout repeats one value thousands of times). Within rtol of the
            // boundary either side is right, so such a draw checks nothing and is skipped.
            if (!f64 && Math.abs(exact) > Float.MAX_VALUE * (1 - rtol) && Math.abs(exact) < Float.MAX_VALUE * (1 + rtol)) {
                return;
            }
            expected[i] = f64 ? exact : (float) exact;
            for (double v : groups.get(i)) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        double tol = 4 * eps * Math.max(1, n) * Math.max(1, scale);
        Ref.assertClose(kind + " dims " + java.util.Arrays.toString(dims), expected, y, tol, rtol);
        int[] expectShape = keep ? keptShape(shape, effective) : droppedShape(shape, effective);
        assertArrayEquals(expectShape, y.shape(), "shape of " + kind);
    }

    static boolean[] allTrue(int n) {
        boolean[] b = new boolean[n];
        java.util.Arrays.fill(b, true);
        return b;
    }

    static int[] keptShape(int[] shape, boolean[] reduced) {
        int[] s = shape.clone();
        for (int d = 0; d < s.length; d++) {
            if (reduced[d]) {
                s[d] = 1;
            }
        }
        return s;
    }

    static int[] droppedShape(int[] shape, boolean[] reduced) {
        return java.util.stream.IntStream.range(0, shape.length).filter(d -> !reduced[d]).map(d -> shape[d]).toArray();
    }

    @Property(tries = 200)
    void softmaxAndLogSoftmaxMatchReference(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll Ref.Layout layout,
            @ForAll boolean log) {
        int dim = (int) Math.floorMod(seed, shape.length);
        Tensor x = Ref.make(shape, seed, layout, DType.F32, -10, 10);
        Tensor y = log ? x.logSoftmax(dim) : x.softmax(dim);
        boolean[] reduced = new boolean[shape.length];
        reduced[dim] = true;
        double[] xs = Ref.values(x);
        double[] expected = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            int[] idx = Ref.unravel(i, shape);
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < shape[dim]; j++) {
                idx[dim] = j;
                max = Math.max(max, x.getDouble(idx));
            }
            double s = 0;
            for (int j = 0; j < shape[dim]; j++) {
                idx[dim] = j;
                s += Math.exp(x.getDouble(idx) - max);
            }
            expected[i] = log ? xs[i] - max - Math.log(s) : Math.exp(xs[i] - max) / s;
        }
        double tol = 8 * Ref.F32_EPS * Math.max(1, Math.log(shape[dim] + 1)) * (log ? 20 : 1);
        Ref.assertClose(log ? "log_softmax" : "softmax", expected, y, tol, tol);
    }

    @Provide
    Arbitrary<Double> offsets() {
        return Arbitraries.of(0.0, 1e4, -1e4, 1e6, 1e12, 1e17, 3e38);
    }

    /**
     * log_softmax = (x − max) − log Σ exp(x − max): the max is subtracted first, so rows far from
     * zero keep the precision of their differences ((x − max) is exact by Sterbenz' lemma when the
     * row spans less than a factor of 2). Error budget: one rounding each of the difference, of lse
     * and of the result, so a few ε of |y| + 1, never ε of |x|.
     */
    @Property(tries = 80)
    void logSoftmaxKeepsPrecisionFarFromZero(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll("offsets") double offset,
            @ForAll boolean f64, @ForAll boolean transposed) {
        if (shape.length == 0) {
            return;
        }
        DType dt = f64 ? DType.F64 : DType.F32;
        Tensor x = Ref.make(shape, seed, transposed ? Ref.Layout.TRANSPOSED : Ref.Layout.CONTIGUOUS, dt, offset - 10, offset + 10);
        int dim = shape.length - 1;
        Tensor y = x.logSoftmax(dim);
        double[] xs = Ref.values(x);
        double[] expected = new double[xs.length];
        int n = shape[dim];
        for (int row = 0; row * n < xs.length; row++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                max = Math.max(max, xs[row * n + j]);
            }
            double s = 0;
            for (int j = 0; j < n; j++) {
                s += Math.exp(xs[row * n + j] - max);
            }
            for (int j = 0; j < n; j++) {
                expected[row * n + j] = (xs[row * n + j] - max) - Math.log(s);
            }
        }
        double eps = f64 ? 0x1p-52 : Ref.F32_EPS;
        Ref.assertClose("log_softmax offset " + offset, expected, y, 8 * eps * (1 + Math.log(n + 1)), 8 * eps);
    }

    @Test
    void logSoftmaxOfLargeInputsMatchesPyTorch() {
        double lse = Math.log1p(Math.exp(-1));
        float[] near = Tensor.of(new float[] {1e4f, 1e4f - 1}).logSoftmax(0).toFloatArray();
        assertEquals(-lse, near[0], 1e-7, "torch gives -0.3133, not -0.3135");
        assertEquals(-1 - lse, near[1], 1e-7);
        float[] huge = Tensor.of(new float[] {3e38f, 3e38f, 0}).logSoftmax(0).toFloatArray();
        assertEquals(-Math.log(2), huge[0], 1e-7, "torch gives -0.693, not 0");
        assertEquals(-Math.log(2), huge[1], 1e-7);
        assertEquals(-3e38f, huge[2]);
        double[] wide = Tensor.of(new double[] {1e17, 1e17, 1e300, 1e300}).reshape(2, 2).logSoftmax(1).toDoubleArray();
        for (double v : wide) {
            assertEquals(-Math.log(2), v, 1e-15);
        }
        // every position of a row longer than a vector (vector body and tail alike), and a half type
        int n = 2 * Simd.F32.length() + 3;
        float[] row = Tensor.full(3e38, DType.F32, n).logSoftmax(0).toFloatArray();
        for (float v : row) {
            assertEquals(-Math.log(n), v, 1e-6);
        }
        assertEquals((float) -Math.log(2), Tensor.of(new float[] {3e38f, 3e38f}).to(DType.BF16).logSoftmax(0).getFloat(0), 4e-3);
        // exp summed in double: F32 is the F64 result rounded (torch's F32 kernel sums in F32 and gives −4.5418e−5 at [2],
        // 3.7e−4 relative off; the OpInfo fixture softmax/logSoftmax/F32/logits-large expects torch's F64 value)
        double[] wideRow = {700, 710, 720, -745};
        float[] f32 = Tensor.of(wideRow).to(DType.F32).logSoftmax(0).toFloatArray();
        double[] f64 = Tensor.of(wideRow).logSoftmax(0).toDoubleArray();
        for (int i = 0; i < wideRow.length; i++) {
            assertEquals((float) f64[i], f32[i], Math.ulp((float) f64[i]), "log_softmax([700, 710, 720, -745])[" + i + "]");
        }
    }

    @Property(tries = 150)
    void argmaxArgminCumsum(@ForAll("shapes") int[] shape, @ForAll long seed, @ForAll Ref.Layout layout) {
        int dim = (int) Math.floorMod(seed, shape.length);
        Tensor x = Ref.make(shape, seed, layout, DType.F32, -3, 3).mul(2).apply(UnaryOp.SIGN); // many ties
        Tensor c = x.cumsum(dim);
        double[] xs = Ref.values(x);
        double[] cum = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            int[] idx = Ref.unravel(i, shape);
            double s = 0;
            int upto = idx[dim];
            for (int j = 0; j <= upto; j++) {
                idx[dim] = j;
                s += x.getDouble(idx);
            }
            cum[i] = s;
        }
        Ref.assertClose("cumsum", cum, c, 0, 0);
        if (shape[dim] == 0) {
            return;
        }
        Tensor am = x.argmax(dim, false);
        Tensor an = x.argmin(dim, true);
        List<double[]> groups = groups(x, oneHot(shape.length, dim));
        double[] expMax = new double[groups.size()];
        double[] expMin = new double[groups.size()];
        for (int i = 0; i < groups.size(); i++) {
            double[] g = groups.get(i);
            int bi = 0;
            int si = 0;
            for (int j = 1; j < g.length; j++) {
                if (g[j] > g[bi]) bi = j;
                if (g[j] < g[si]) si = j;
            }
            expMax[i] = bi;
            expMin[i] = si;
        }
        Ref.assertClose("argmax (first of ties)", expMax, am, 0, 0);
        Ref.assertClose("argmin (first of ties)", expMin, an, 0, 0);
        assertEquals(DType.I64, am.dtype());
    }

    static boolean[] oneHot(int n, int d) {
        boolean[] b = new boolean[n];
        b[d] = true;
        return b;
    }

    @Test
    void aFloatProductPastTheFloatRangeIsInfiniteAndTheDoubleOneIsNot() {
        // 1.06^2500 ≈ 3e63: past Float.MAX_VALUE, inside the double range; the product accumulates
        // in double and rounds once, so the float result is +∞ (as PyTorch's) and not a wrapped value.
        Tensor repeated = Tensor.full(1.06, DType.F32, 1).expand(2500);
        assertEquals(Float.POSITIVE_INFINITY, repeated.prod(false).toFloatArray()[0]);
        double exact = Math.pow(1.06, 2500);
        double got = Tensor.full(1.06, DType.F64, 1).expand(2500).prod(false).getDouble();
        assertEquals(exact, got, exact * 2500 * 0x1p-52);
    }

    @Test
    void longRowsSumAccuratelyAndIntegersSumToI64() {
        int n = 1 << 20;
        Tensor ones = Tensor.ones(n);
        assertEquals((double) n, ones.sum().item());
        Tensor ints = Tensor.arange(0, 100000, 1, DType.I32);
        assertEquals(DType.I64, ints.sum().dtype());
        assertEquals(4999950000L, ints.sum().toLongArray()[0]);
        assertEquals(0.0, Tensor.zeros(0).sum().item());
        assertEquals(1.0, Tensor.zeros(0).prod(false).item());
    }

    @Test
    void softmaxIsStableForHugeAndInfiniteInputs() {
        Tensor x = Tensor.of(new float[] {1000, 1000, Float.NEGATIVE_INFINITY});
        assertArrayEquals(new float[] {0.5f, 0.5f, 0}, x.softmax(0).toFloatArray());
        Tensor masked = Tensor.of(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY});
        assertEquals(Float.NEGATIVE_INFINITY, masked.logsumexp(false, 0).getFloat());
        assertEquals((float) (1000 + Math.log(2)), x.logsumexp(false, 0).getFloat(), 1e-3);
    }

    /**
     * A +inf logit makes the whole row NaN (inf − inf in the shift), as in PyTorch, for softmax,
     * log_softmax and masked softmax, in every float dtype, at a vector-body and a tail position (and
     * 3e38, which is +inf in F16); only an all −inf row is shifted by 0 (and is NaN too).
     */
    @Test
    void aPositiveInfiniteLogitMakesTheRowNaN() {
        int n = 2 * Simd.F32.length() + 3;
        for (DType dt : new DType[] {DType.F64, DType.F32, DType.BF16, DType.F16}) {
            for (int at : new int[] {0, n - 1}) {
                double[] row = new double[n];
                for (int i = 0; i < n; i++) {
                    row[i] = i % 5 - 2;
                }
                row[at] = Double.POSITIVE_INFINITY;
                Tensor x = Tensor.of(row).to(dt);
                Tensor all = Tensor.ones(DType.BOOL, n);
                for (Tensor y : new Tensor[] {x.softmax(0), x.logSoftmax(0), x.maskedSoftmax(all, 1)}) {
                    for (double v : Ref.values(y)) {
                        assertTrue(Double.isNaN(v), dt + " +inf at " + at + ": " + java.util.Arrays.toString(Ref.values(y)));
                    }
                }
            }
        }
        Tensor f16 = Tensor.of(new double[] {3e38, 3e38, 0}).to(DType.F16);
        for (double v : Ref.values(f16.softmax(0))) {
            assertTrue(Double.isNaN(v), "F16 3e38 is +inf");
        }
        for (double v : Ref.values(Tensor.full(Double.NEGATIVE_INFINITY, DType.F32, 3).logSoftmax(0))) {
            assertTrue(Double.isNaN(v), "all -inf");
        }
    }

    @Test
    void errorsNameTheOp() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).sum(false, 2));
        assertEquals("sum: dim 2 out of range for a 2-d tensor", e.getMessage());
        var r = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).sum(false, 1, -1));
        assertEquals("sum: dim -1 repeated in [1, -1]", r.getMessage());
        var m = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 0).max(false, 1));
        assertEquals("max: cannot reduce an empty dim of shape [2, 0] (no identity)", m.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new int[] {1, 2}).softmax(0));
        assertEquals("softmax: needs a floating tensor, got I32", s.getMessage());
    }
}
