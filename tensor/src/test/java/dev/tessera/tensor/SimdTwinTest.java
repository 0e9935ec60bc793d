package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * Every F32 elementwise op with a vector form against its scalar twin, the double-precision
 * {@link UnaryOp#apply} / {@link BinaryOp#apply} rounded to float (what {@code -Dtessera.simd=off}
 * runs), at edge values (±0, subnormals, ±MIN_NORMAL, ±MAX_VALUE, ±inf, NaN, each op's overflow and
 * underflow thresholds and their neighbours) and random ones. The tolerances are the ones
 * {@link Elementwise#hasVectorForm} documents: bitwise for NEG, ABS, SQRT, SQUARE, RECIPROCAL, RELU
 * and the binary ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM (one IEEE rounding either way); a few ulps for
 * the transcendental ones. NaN matches NaN (payloads aside). Under {@code -Dtessera.simd=off} both
 * sides are the twin, so the property holds trivially there and bites at every forced width. Signed
 * zeros must match bitwise whatever the tolerance.
 */
class SimdTwinTest {
    /** Thresholds of the vector forms (exp's over/underflow and scale cut-offs, tanh's branch, σ's tiny branch, x² and 2x overflow). */
    private static final float[] THRESHOLDS = {0.625f, 1, 9, 44.36f, 87.33654f, 88.37626f, 88.72284f, 103.972084f, 120.6f,
        9.95f, 10.5f, 11f, 1.8446744e19f, 1.7e38f, 2.9e-39f, 1e-19f, 3.4e-20f, Float.MIN_NORMAL};

    static float[] edges() {
        java.util.List<Float> v = new java.util.ArrayList<>(java.util.List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Math.nextDown(Float.MIN_NORMAL), -Math.nextDown(Float.MIN_NORMAL)));
        for (float t : THRESHOLDS) {
            for (float s : new float[] {t, Math.nextUp(t), Math.nextDown(t)}) {
                v.add(s);
                v.add(-s);
            }
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    /** Edge values, then random bit patterns (every exponent) and values in [−130, 130] (every branch). */
    static float[] values(long seed, int random) {
        float[] e = edges();
        float[] out = java.util.Arrays.copyOf(e, e.length + 2 * random);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < random; i++) {
            out[e.length + 2 * i] = Float.intBitsToFloat(r.nextInt());
            out[e.length + 2 * i + 1] = (float) r.nextDouble(-130, 130);
        }
        return out;
    }

    /** The documented tolerance of op's vector form at x, in ulps of the twin (0: bitwise). */
    static double ulps(UnaryOp op, float x) {
        return switch (op) {
            case NEG, ABS, SQRT, SQUARE, RECIPROCAL, RELU -> 0;
            case RSQRT -> 1;
            case EXP -> 2;
            case TANH, SIGMOID -> 3;
            case SILU -> 4;
            case GELU_TANH -> 4 * (1 + Math.abs(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            default -> throw new IllegalArgumentException(op + " has no vector form");
        };
    }

    @Provide
    Arbitrary<UnaryOp> vectorUnaryOps() {
        return Arbitraries.of(UnaryOp.class).filter(Elementwise::hasVectorForm);
    }

    @Property(tries = 48)
    void unaryVectorFormsMatchTheirScalarTwins(@ForAll("vectorUnaryOps") UnaryOp op, @ForAll long seed) {
        float[] x = values(seed, 1000);
        float[] y = Tensor.of(x).apply(op).toFloatArray();
        for (int i = 0; i < x.length; i++) {
            float xi = x[i];
            assertAgrees(() -> op + "(" + xi + ")", (float) op.apply(xi), y[i], ulps(op, xi));
        }
    }

    static void assertAgrees(Supplier<String> what, float twin, float got, double ulps) {
        if (Float.isNaN(twin) && Float.isNaN(got)) {
            return;
        }
        // a zero's sign is part of the answer (tanh(−0) = −0): an ulp distance would call ±0 equal
        if (ulps == 0 || Float.isInfinite(twin) || Float.isNaN(twin) || twin == 0 && got == 0) {
            if (Float.floatToIntBits(twin) != Float.floatToIntBits(got)) {
                fail(what.get() + ": vector " + got + ", scalar twin " + twin + " (bitwise)");
            }
            return;
        }
        double diff = Math.abs((double) got - twin) / Math.ulp(twin);
        if (!(diff <= ulps)) {
            fail(what.get() + ": vector " + got + ", scalar twin " + twin + " (" + diff + " ulps, allowed " + ulps + ")");
        }
    }

    @Provide
    Arbitrary<BinaryOp> vectorBinaryOps() {
        return Arbitraries.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAXIMUM, BinaryOp.MINIMUM);
    }

    /** Every pair of edge values, and random pairs, through the tensor-tensor and the broadcast-scalar vector loops. */
    @Property(tries = 30)
    void binaryVectorFormsMatchTheirScalarTwinsBitwise(@ForAll("vectorBinaryOps") BinaryOp op, @ForAll long seed) {
        float[] e = edges();
        float[] r = values(seed, 300);
        int n = e.length * e.length + r.length;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < e.length * e.length; i++) {
            a[i] = e[i / e.length];
            b[i] = e[i % e.length];
        }
        for (int i = 0; i < r.length; i++) {
            a[e.length * e.length + i] = r[i];
            b[e.length * e.length + i] = r[r.length - 1 - i];
        }
        float[] y = Tensor.of(a).apply(op, Tensor.of(b)).toFloatArray();
        for (int i = 0; i < n; i++) {
            int at = i;
            assertAgrees(() -> op + "(" + a[at] + ", " + b[at] + ")", (float) op.apply(a[i], b[i]), y[i], 0);
        }
        for (float s : e) {
            float[] ys = Tensor.of(r).apply(op, Tensor.scalar(s)).toFloatArray();
            for (int i = 0; i < r.length; i++) {
                int at = i;
                assertAgrees(() -> op + "(" + r[at] + ", scalar " + s + ")", (float) op.apply(r[i], s), ys[i], 0);
            }
        }
    }

    /** The reviewer's case: tanh-GELU of x past about 1.7e38 is x (the vector form overflowed to +inf in ½·2x). */
    @Test
    void geluTanhOfHugeInputsIsTheInput() {
        float[] x = {1.7e38f, 2e38f, Float.MAX_VALUE, -Float.MAX_VALUE, 1e20f, -1e20f};
        float[] y = Tensor.of(x).geluTanh().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i] > 0 ? x[i] : -0f, y[i], "gelu_tanh(" + x[i] + ")");
        }
    }

    /** The fused SwiGLU forward gives the composite silu(a)·b's bits at every length around the vector width. */
    @Property(tries = 30)
    void swiGluForwardEqualsTheComposite(@ForAll long seed) {
        int lanes = Simd.F32.length();
        for (int n : new int[] {1, lanes - 1, lanes, lanes + 1, 3 * lanes + 2}) {
            float[] v = values(seed, n);
            Tensor a = Tensor.of(java.util.Arrays.copyOf(v, n));
            Tensor b = Tensor.of(java.util.Arrays.copyOfRange(v, v.length - n, v.length));
            float[] fused = SwiGlu.forward(a, b).toFloatArray();
            float[] composite = a.silu().mul(b).toFloatArray();
            for (int i = 0; i < n; i++) {
                int at = i;
                assertEquals(Float.floatToIntBits(composite[i]), Float.floatToIntBits(fused[i]), () -> "n=" + n + " at " + at);
            }
        }
    }

    /** An element's bits do not depend on where it sits (vector body, tail, strided row) or on the row length. */
    @Property(tries = 40)
    void unaryBitsDependOnlyOnTheValue(@ForAll("vectorUnaryOps") UnaryOp op, @ForAll long seed) {
        float[] x = values(seed, 40);
        float[] whole = Tensor.of(x).apply(op).toFloatArray();
        Tensor strided = Tensor.of(x).reshape(1, x.length).expand(3, x.length).mT(); // (n, 3) with stride (1, 0)
        float[] viaStrided = strided.apply(op).select(1, 2).contiguous().toFloatArray();
        for (int i = 0; i < x.length; i++) {
            float alone = Tensor.of(new float[] {x[i], x[i]}).apply(op).toFloatArray()[1];
            float xi = x[i];
            assertEquals(Float.floatToIntBits(whole[i]), Float.floatToIntBits(alone), () -> op + "(" + xi + ") alone");
            assertEquals(Float.floatToIntBits(whole[i]), Float.floatToIntBits(viaStrided[i]), () -> op + "(" + xi + ") strided");
        }
    }
}
