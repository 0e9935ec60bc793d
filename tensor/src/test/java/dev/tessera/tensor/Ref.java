package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Test support: naive double-precision references that read tensors element by element through
 * shape and strides (never through the kernels under test), and tolerance-aware comparison that
 * reports the worst difference and its index.
 */
final class Ref {
    /** One F32 rounding of a reasonably conditioned result. */
    static final double F32_EPS = 0x1p-23;

    private Ref() {}

    /** Row-major multi-index of flat position {@code flat} in {@code shape}. */
    static int[] unravel(long flat, int[] shape) {
        int[] index = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = (int) (flat % shape[d]);
            flat /= shape[d];
        }
        return index;
    }

    /** All elements of t in row-major order, read through strides. */
    static double[] values(Tensor t) {
        int n = t.numel();
        double[] out = new double[n];
        int[] shape = t.shape();
        int[] strides = t.strides();
        for (int i = 0; i < n; i++) {
            int[] idx = unravel(i, shape);
            int at = t.offset();
            for (int d = 0; d < idx.length; d++) {
                at += idx[d] * strides[d];
            }
            out[i] = t.storage().getDouble(at);
        }
        return out;
    }

    /** Value of t at the broadcast position {@code index} of a result with rank {@code index.length}. */
    static double broadcastGet(Tensor t, int[] index) {
        int[] shape = t.shape();
        int lead = index.length - shape.length;
        int at = t.offset();
        for (int d = 0; d < shape.length; d++) {
            int i = shape[d] == 1 ? 0 : index[lead + d];
            at += i * t.strides()[d];
        }
        return t.storage().getDouble(at);
    }

    static double[] unary(Tensor x, DoubleUnaryOperator f) {
        double[] v = values(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = f.applyAsDouble(v[i]);
        }
        return v;
    }

    static double[] binary(Tensor a, Tensor b, int[] outShape, DoubleBinaryOperator f) {
        long n = Shapes.numel(outShape);
        double[] out = new double[(int) n];
        for (int i = 0; i < n; i++) {
            int[] idx = unravel(i, outShape);
            out[i] = f.applyAsDouble(broadcastGet(a, idx), broadcastGet(b, idx));
        }
        return out;
    }

    /** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere (NaN must match NaN, infinities exactly). */
    static void assertClose(String what, double[] expected, Tensor actual, double atol, double rtol) {
        double[] got = values(actual);
        if (got.length != expected.length) {
            fail(what + ": " + got.length + " elements, expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < got.length; i++) {
            double e = expected[i];
            double g = got[i];
            if (Double.isNaN(e) || Double.isInfinite(e)) {
                if (Double.compare(e, g) != 0 && !(Double.isNaN(e) && Double.isNaN(g))) {
                    fail(what + ": at " + Arrays.toString(unravel(i, actual.shape())) + " expected " + e + " got " + g);
                }
                continue;
            }
            double excess = Math.abs(g - e) - (atol + rtol * Math.abs(e));
            if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Double.isNaN(g))) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            fail(what + ": worst at " + Arrays.toString(unravel(worst, actual.shape())) + " expected " + expected[worst] + " got "
                    + got[worst] + " (|diff| " + Math.abs(got[worst] - expected[worst]) + ", atol " + atol + ", rtol " + rtol + ")");
        }
    }

    /**
     * Shapes of rank 0..4 with sizes drawn mostly small, sometimes 0, and around the vector width of
     * whatever species runs ({@code lanes − 1}, {@code lanes}, {@code lanes + 1}, {@code 2·lanes + 1}),
     * plus odd primes, so every kernel's tail is reached at every forced width.
     */
    static Arbitrary<int[]> shapes() {
        int lanes = Simd.F32.length();
        Arbitrary<Integer> size = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(1, 0), net.jqwik.api.Tuple.of(6, 1), net.jqwik.api.Tuple.of(20, 2),
                net.jqwik.api.Tuple.of(20, 3), net.jqwik.api.Tuple.of(6, 5), net.jqwik.api.Tuple.of(6, 7),
                net.jqwik.api.Tuple.of(8, lanes - 1), net.jqwik.api.Tuple.of(4, lanes), net.jqwik.api.Tuple.of(8, lanes + 1),
                net.jqwik.api.Tuple.of(6, 2 * lanes + 1), net.jqwik.api.Tuple.of(4, 31), net.jqwik.api.Tuple.of(2, 67));
        return size.array(int[].class).ofMinSize(0).ofMaxSize(4).filter(s -> Shapes.numel(s) <= 20_000);
    }

    /** How an input tensor is laid out in memory: each form yields the same logical values. */
    enum Layout { CONTIGUOUS, TRANSPOSED, STEP_SLICED, EXPANDED, OFFSET }

    /** A tensor with the given logical shape and values from the seed, laid out as asked. */
    static Tensor make(int[] shape, long seed, Layout layout, DType dtype, double lo, double hi) {
        Generator g = new Generator(seed);
        switch (layout) {
            case TRANSPOSED -> {
                if (shape.length >= 2) {
                    int[] s = shape.clone();
                    int r = s.length;
                    int tmp = s[r - 1];
                    s[r - 1] = s[r - 2];
                    s[r - 2] = tmp;
                    return uniform(g, s, dtype, lo, hi).transpose(-1, -2);
                }
            }
            case STEP_SLICED -> {
                if (shape.length >= 1) {
                    int[] s = shape.clone();
                    s[s.length - 1] = s[s.length - 1] * 2 + 1;
                    return uniform(g, s, dtype, lo, hi).slice(-1, 1, Integer.MAX_VALUE, 2);
                }
            }
            case EXPANDED -> {
                if (shape.length >= 1 && shape[0] > 1) {
                    int[] s = shape.clone();
                    s[0] = 1;
                    return uniform(g, s, dtype, lo, hi).expand(shape);
                }
            }
            case OFFSET -> {
                int[] s = shape.clone();
                if (s.length >= 1) {
                    s[0] += 2;
                    return uniform(g, s, dtype, lo, hi).narrow(0, 1, shape[0]);
                }
            }
            default -> { }
        }
        return uniform(g, shape, dtype, lo, hi);
    }

    static Tensor uniform(Generator g, int[] shape, DType dtype, double lo, double hi) {
        return Tensor.rand(g, DType.F64, shape).mul(hi - lo).add(lo).to(dtype);
    }

    static Arbitrary<Layout> layouts() {
        return Arbitraries.of(Layout.class);
    }

    static Arbitrary<int[][]> broadcastPairs() {
        return Combinators.combine(shapes(), Arbitraries.integers().between(0, 15), Arbitraries.integers().between(0, 2))
                .as((shape, onesMask, drop) -> {
                    int[] other = Arrays.copyOfRange(shape, Math.min(drop, shape.length), shape.length);
                    for (int d = 0; d < other.length; d++) {
                        if ((onesMask >> d & 1) == 1) {
                            other[d] = 1;
                        }
                    }
                    return new int[][] {shape, other};
                });
    }
}
