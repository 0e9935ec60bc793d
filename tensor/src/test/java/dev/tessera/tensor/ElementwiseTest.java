package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.commons.math3.special.Erf;
import org.apache.commons.math3.util.FastMath;
import org.junit.jupiter.api.Test;

/** Every elementwise op against an independent double-precision reference, over shapes, layouts and broadcasting. */
class ElementwiseTest {

    /** The reference formulas, written independently of UnaryOp.apply (Commons Math for erf). */
    static DoubleUnaryOperator reference(UnaryOp op) {
        return switch (op) {
            case NEG -> x -> -x;
            case EXP -> FastMath::exp;
            case LOG -> FastMath::log;
            case LOG1P -> FastMath::log1p;
            case EXPM1 -> FastMath::expm1;
            case SQRT -> FastMath::sqrt;
            case RSQRT -> x -> 1 / FastMath.sqrt(x);
            case ABS -> FastMath::abs;
            case SIGN -> x -> x > 0 ? 1 : x < 0 ? -1 : 0;
            case SIN -> FastMath::sin;
            case COS -> FastMath::cos;
            case TANH -> FastMath::tanh;
            case SIGMOID -> x -> 1 / (1 + FastMath.exp(-x));
            case RELU -> x -> x > 0 ? x : 0;
            case GELU_ERF -> x -> x * 0.5 * (1 + Erf.erf(x / FastMath.sqrt(2)));
            case GELU_TANH -> x -> 0.5 * x * (1 + FastMath.tanh(FastMath.sqrt(2 / FastMath.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x -> x / (1 + FastMath.exp(-x));
            case SOFTPLUS -> x -> FastMath.log(1 + FastMath.exp(x));
            case ERF -> Erf::erf;
            case LOGICAL_NOT -> x -> x == 0 ? 1 : 0;
            case SQUARE -> x -> x * x;
            case RECIPROCAL -> x -> 1 / x;
        };
    }

    /** Inputs where the op is defined and well conditioned. */
    static double[] domain(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT, RSQRT -> new double[] {0.05, 20};
            case LOG1P -> new double[] {-0.9, 20};
            case RECIPROCAL -> new double[] {0.1, 10};
            default -> new double[] {-8, 8};
        };
    }

    @Provide
    Arbitrary<UnaryOp> unaryOps() {
        return Arbitraries.of(UnaryOp.class);
    }

    @Property(tries = 300)
    void unaryMatchesReference(@ForAll("unaryOps") UnaryOp op, @ForAll("shapes") int[] shape, @ForAll Ref.Layout layout,
            @ForAll long seed, @ForAll boolean f64) {
        double[] dom = domain(op);
        Tensor x = Ref.make(shape, seed, layout, f64 ? DType.F64 : DType.F32, dom[0], dom[1]);
        Tensor y = x.apply(op);
        assertArrayEquals(shape, y.shape());
        double tol = f64 ? 1e-13 : 4 * Ref.F32_EPS;
        Ref.assertClose(op + " " + layout, Ref.unary(x, reference(op)), y, tol, tol);
        assertEquals(op == UnaryOp.LOGICAL_NOT ? DType.BOOL : x.dtype(), y.dtype());
    }

    @Provide
    Arbitrary<int[]> shapes() {
        return Ref.shapes();
    }

    @Provide
    Arbitrary<int[][]> pairs() {
        return Ref.broadcastPairs();
    }

    static DoubleBinaryOperator reference(BinaryOp op) {
        return switch (op) {
            case ADD -> (a, b) -> a + b;
            case SUB -> (a, b) -> a - b;
            case MUL -> (a, b) -> a * b;
            case DIV -> (a, b) -> a / b;
            case POW -> FastMath::pow;
            case MAXIMUM -> FastMath::max;
            case MINIMUM -> FastMath::min;
            case EQ -> (a, b) -> a == b ? 1 : 0;
            case NE -> (a, b) -> a != b ? 1 : 0;
            case LT -> (a, b) -> a < b ? 1 : 0;
            case LE -> (a, b) -> a <= b ? 1 : 0;
            case GT -> (a, b) -> a > b ? 1 : 0;
            case GE -> (a, b) -> a >= b ? 1 : 0;
            case LOGICAL_AND -> (a, b) -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> (a, b) -> a != 0 || b != 0 ? 1 : 0;
        };
    }

    @Property(tries = 300)
    void binaryBroadcastsAndMatchesReference(@ForAll BinaryOp op, @ForAll("pairs") int[][] shapes, @ForAll Ref.Layout la,
            @ForAll Ref.Layout lb, @ForAll long seed, @ForAll boolean swap, @ForAll boolean f64) {
        int[] sa = swap ? shapes[1] : shapes[0];
        int[] sb = swap ? shapes[0] : shapes[1];
        DType dt = f64 ? DType.F64 : DType.F32;
        boolean positive = op == BinaryOp.POW;
        Tensor a = Ref.make(sa, seed, la, dt, positive ? 0.1 : -3, 3);
        Tensor b = Ref.make(sb, seed + 1, lb, dt, positive ? -2 : -3, 3);
        if (op.isPredicate()) { // make ties and zeros likely
            a = a.mul(2).apply(UnaryOp.SIGN);
            b = b.mul(2).apply(UnaryOp.SIGN);
        }
        int[] out = Shapes.broadcast("test", sa, sb);
        Tensor y = a.apply(op, b);
        assertArrayEquals(out, y.shape());
        double tol = f64 ? 1e-13 : 2 * Ref.F32_EPS;
        Ref.assertClose(op + " " + la + "/" + lb, Ref.binary(a, b, out, reference(op)), y, tol, tol);
        assertEquals(op.isPredicate() ? DType.BOOL : dt, y.dtype());
    }

    @Property(tries = 100)
    void inPlaceEqualsOutOfPlace(@ForAll("pairs") int[][] shapes, @ForAll long seed, @ForAll Ref.Layout layout) {
        Tensor a = Ref.make(shapes[0], seed, Ref.Layout.CONTIGUOUS, DType.F32, -2, 2);
        Tensor b = Ref.make(shapes[1], seed + 7, layout, DType.F32, -2, 2);
        Tensor expected = a.mul(b);
        int version = a.storage().version();
        Tensor same = a.mulInPlace(b);
        assertSame(a, same);
        assertArrayEquals(expected.toFloatArray(), a.toFloatArray());
        assertEquals(version + 1, a.storage().version());
    }

    @Test
    void inPlaceOnStridedViewWritesThroughToBase() {
        Tensor base = Tensor.arange(0, 12, 1, DType.F32).reshape(3, 4);
        base.transpose(0, 1).slice(0, 0, 4, 2).addInPlace(100); // columns 0 and 2
        assertArrayEquals(new float[] {100, 1, 102, 3, 104, 5, 106, 7, 108, 9, 110, 11}, base.toFloatArray());
        Tensor halves = Tensor.of(new float[] {1, 2, 3}).to(DType.BF16);
        halves.applyInPlace(UnaryOp.SQUARE);
        assertArrayEquals(new float[] {1, 4, 9}, halves.toFloatArray());
    }

    @Test
    void promotionFollowsPyTorch() {
        Tensor i = Tensor.of(new int[] {1, 2, 3});
        Tensor f = Tensor.of(new float[] {0.5f, 0.5f, 0.5f});
        assertEquals(DType.F32, i.add(f).dtype());
        assertEquals(DType.I32, i.add(i).dtype());
        assertEquals(DType.F32, i.div(i).dtype());
        assertEquals(DType.F32, f.to(DType.BF16).add(f.to(DType.F16)).dtype());
        assertEquals(DType.F64, f.add(f.to(DType.F64)).dtype());
        assertEquals(DType.I64, i.add(Tensor.of(new long[] {1, 1, 1})).dtype());
        assertArrayEquals(new long[] {1, 4, 27}, i.pow(i).toLongArray());
        assertEquals(DType.BOOL, i.gt(f).dtype());
        assertEquals(DType.F32, i.sigmoid().dtype());
        assertEquals(DType.I32, i.neg().dtype());
    }

    @Test
    void clampWhereAndMaskedFill() {
        Tensor x = Tensor.of(new float[] {-2, -0.5f, 0.5f, 2});
        assertArrayEquals(new float[] {-1, -0.5f, 0.5f, 1}, x.clamp(-1, 1).toFloatArray());
        assertArrayEquals(new float[] {-2, -0.5f, 0.5f, 1}, x.clamp(Double.NaN, 1).toFloatArray());
        Tensor mask = x.gt(0);
        assertArrayEquals(new float[] {-2, -0.5f, 0, 0}, x.maskedFill(mask, 0).toFloatArray());
        Tensor w = Tensor.where(mask.reshape(4, 1), x.reshape(1, 4), Tensor.scalar(7));
        assertArrayEquals(new int[] {4, 4}, w.shape());
        assertEquals(7f, w.getFloat(0, 3));
        assertEquals(2f, w.getFloat(3, 3));
        assertArrayEquals(new float[] {0, 0, 1, 1}, mask.logicalAnd(x.lt(10)).to(DType.F32).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0, 0}, mask.logicalNot().to(DType.F32).toFloatArray());
    }

    @Test
    void nanAndInfinityPropagate() {
        Tensor x = Tensor.of(new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0});
        float[] relu = x.relu().toFloatArray();
        assertEquals(Float.NaN, relu[0]);
        assertEquals(Float.POSITIVE_INFINITY, relu[1]);
        assertEquals(0f, relu[2]);
        float[] max = x.maximum(Tensor.of(new float[] {1, 1, 1, 1})).toFloatArray();
        assertEquals(Float.NaN, max[0]);
        assertEquals(1f, max[2]);
        assertArrayEquals(new float[] {Float.NaN, 1, 0, 0.5f}, x.sigmoid().toFloatArray());
    }

    @Test
    void vectorExpAndTanhHoldAcrossTheWholeFloatRange() {
        int n = 200_003;
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = -110f + 200f * i / n; // exp: underflow, subnormal, normal and overflow results
        }
        float[] specials = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -103.98f, -103.96f, -87.34f, 88.72f, 88.73f, 0f, -0f};
        System.arraycopy(specials, 0, xs, 0, specials.length);
        float[] e = Tensor.of(xs).exp().toFloatArray();
        for (int i = 0; i < n; i++) {
            assertWithinUlps((float) Math.exp(xs[i]), e[i], 2, xs[i]);
        }
        float[] t = Tensor.of(xs).div(5).tanh().toFloatArray();
        float[] small = Tensor.of(new float[] {1e-30f, -1e-7f, 3e-4f, 0.6249f, 0.6251f, -0.3f, 1e-20f, 0.1f}).tanh().toFloatArray();
        float[] smallIn = {1e-30f, -1e-7f, 3e-4f, 0.6249f, 0.6251f, -0.3f, 1e-20f, 0.1f};
        for (int i = 0; i < n; i++) {
            assertWithinUlps((float) Math.tanh(xs[i] / 5), t[i], 3, xs[i] / 5);
        }
        for (int i = 0; i < small.length; i++) {
            assertWithinUlps((float) Math.tanh(smallIn[i]), small[i], 3, smallIn[i]);
        }
    }

    static void assertWithinUlps(float want, float got, int ulps, float input) {
        if (Float.isNaN(want) || Float.isInfinite(want)) {
            if (Float.compare(want, got) != 0) {
                assertEquals(want, got, "at input " + input);
            }
            return;
        }
        if (Math.abs(want - got) > ulps * Math.max(Math.ulp(want), Float.MIN_VALUE)) {
            assertEquals(want, got, "at input " + input + " (more than " + ulps + " ulp off)");
        }
    }

    /**
     * pow follows C99/IEEE 754 (and PyTorch), not Math.pow, at its special values: pow(1, y) = 1 for
     * every y, ±inf and NaN included; pow(−1, ±inf) = 1; pow(x, ±0) = 1 for every x, NaN included.
     * Everywhere else Java's pow already agrees with C99. Checked for tensor and scalar exponents,
     * flat, broadcast, strided and in-place paths, in F32, F64 and both half types.
     */
    @Test
    void powFollowsC99AtSpecialValues() {
        double inf = Double.POSITIVE_INFINITY;
        double[] bases = {1, -1, Double.NaN, 0, -0.0, 0.5, -0.5, 2, -2, inf, -inf};
        double[] exponents = {inf, -inf, Double.NaN, 0, -0.0, 1, 2, 3, -1, 0.5, -2.5};
        int nb = bases.length;
        int ne = exponents.length;
        double[] grid = new double[nb * ne];
        double[] expo = new double[nb * ne];
        for (int i = 0; i < nb; i++) {
            for (int j = 0; j < ne; j++) {
                grid[i * ne + j] = bases[i];
                expo[i * ne + j] = exponents[j];
            }
        }
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            Tensor x = Tensor.of(grid).reshape(nb, ne).to(dt);
            Tensor y = Tensor.of(expo).reshape(nb, ne).to(dt);
            checkPow(dt + " tensor exponent", x, y, x.pow(y));
            checkPow(dt + " strided", x.mT(), y.mT(), x.mT().pow(y.mT()));
            checkPow(dt + " in place", x, y, x.copy().applyInPlace(BinaryOp.POW, y));
            for (int j = 0; j < ne; j++) {
                Tensor e = Tensor.full(exponents[j], dt, nb, ne);
                checkPow(dt + " scalar exponent " + exponents[j], x, e, x.pow(exponents[j]));
                checkPow(dt + " broadcast exponent " + exponents[j], x, e, x.pow(Tensor.scalar(exponents[j], dt)));
            }
            for (int i = 0; i < nb; i++) {
                Tensor b = Tensor.full(bases[i], dt, nb, ne);
                checkPow(dt + " broadcast base " + bases[i], b, y, Tensor.scalar(bases[i], dt).pow(y));
            }
        }
    }

    private static void checkPow(String what, Tensor base, Tensor exponent, Tensor got) {
        double[] b = Ref.values(base);
        double[] e = Ref.values(exponent);
        double[] g = Ref.values(got);
        for (int i = 0; i < g.length; i++) {
            String at = what + ": pow(" + b[i] + ", " + e[i] + ")";
            if (b[i] == 1 || e[i] == 0 || (b[i] == -1 && Double.isInfinite(e[i]))) {
                assertEquals(1.0, g[i], at);
            } else {
                double want = Ref.values(Tensor.scalar(Math.pow(b[i], e[i]), DType.F64).to(got.dtype()))[0];
                assertEquals(want, g[i], at);
            }
        }
    }

    /** sign follows PyTorch ((0 < x) − (x < 0)): sign(NaN) = 0 and sign(±0) = +0, in every float dtype and layout. */
    @Test
    void signOfNanAndZeroIsZero() {
        double[] x = {Double.NaN, -0.0, 0.0, 1, -2, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0x1p-20, -0x1p-20};
        double[] want = {0, 0, 0, 1, -1, 1, -1, 1, -1};
        for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            Tensor t = Tensor.of(x).to(dt);
            for (Tensor y : new Tensor[] {t.sign(), t.reshape(1, -1).expand(2, -1).mT().sign().select(1, 1)}) {
                double[] got = Ref.values(y);
                for (int i = 0; i < x.length; i++) {
                    // +0 for both zeros and NaN: compare bits, not ==
                    assertEquals(Double.doubleToRawLongBits(want[i]), Double.doubleToRawLongBits(got[i]), dt + " sign(" + x[i] + ")");
                }
            }
        }
        assertArrayEquals(new long[] {-1, 0, 1}, Tensor.of(new long[] {-5, 0, 7}).sign().toLongArray());
    }

    /** A float rounded to {@code dt} (BF16 or F16) and back. */
    private static float toHalf(float v, DType dt) {
        return dt == DType.BF16 ? HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(v)) : HalfFloats.f16ToFloat(HalfFloats.floatToF16(v));
    }

    /**
     * As PyTorch: on BF16/F16, mul and div by a number keep it in F32 (x·0.1f in F32, rounded once to
     * the half type), while add, sub and comparisons round it to the half type first.
     */
    @Test
    void halfTensorsMultiplyAndDivideByTheScalarInF32() {
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Tensor x = Tensor.rand(new Generator(7), DType.F64, 257).mul(40).sub(20).to(dt);
            float[] xf = x.toFloatArray();
            for (double s : new double[] {0.1, 1.0 / 3, 1e-3, 2.7}) {
                float sf = (float) s;
                float[] mul = x.mul(s).toFloatArray();
                float[] div = x.div(s).toFloatArray();
                float[] mulInPlace = x.copy().mulInPlace(s).toFloatArray();
                float[] add = x.add(s).toFloatArray();
                for (int i = 0; i < xf.length; i++) {
                    String at = dt + " x=" + xf[i] + " s=" + s;
                    assertEquals(toHalf(xf[i] * sf, dt), mul[i], "mul " + at);
                    assertEquals(toHalf(xf[i] * sf, dt), mulInPlace[i], "mulInPlace " + at);
                    assertEquals(toHalf(xf[i] / sf, dt), div[i], "div " + at);
                    assertEquals(toHalf(xf[i] + toHalf(sf, dt), dt), add[i], "add " + at);
                }
            }
        }
    }

    /** PyTorch keeps BOOL for sign (sign(b) = b), unlike square or neg, which promote. */
    @Test
    void signOfBoolIsBool() {
        Tensor b = Tensor.of(new boolean[] {true, false, true});
        Tensor s = b.sign();
        assertEquals(DType.BOOL, s.dtype());
        assertArrayEquals(new double[] {1, 0, 1}, s.toDoubleArray());
    }

    @Test
    void errorsNameTheOpAndShapes() {
        Tensor a = Tensor.zeros(2, 3);
        Tensor b = Tensor.zeros(4, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertEquals("add: shapes [2, 3] and [4, 3] cannot be broadcast (dim 0: 2 vs 4)", e.getMessage());
        var inPlace = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1, 3).addInPlace(a));
        assertEquals("add_: result shape [2, 3] does not match the in-place tensor's [1, 3]", inPlace.getMessage());
        var dtype = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new int[] {1}).addInPlace(Tensor.of(new float[] {1})));
        assertEquals("add_: result type F32 cannot be stored in a I32 tensor", dtype.getMessage());
        var cond = assertThrows(IllegalArgumentException.class, () -> Tensor.where(a, a, a));
        assertEquals("where: condition must be BOOL, got F32", cond.getMessage());
    }
}
