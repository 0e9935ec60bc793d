package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * BF16/F16 conversion against an independent reference: every finite 16-bit value decoded exactly
 * with BigDecimal, then the nearest (ties to the even bit pattern) found by search.
 */
class HalfFloatsTest {
    /** Exact value of a half-format bit pattern given exponent and mantissa widths. */
    static BigDecimal exact(int bits, int expBits, int manBits) {
        int sign = bits >>> (expBits + manBits) & 1;
        int exp = bits >>> manBits & ((1 << expBits) - 1);
        int man = bits & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        BigDecimal m = exp == 0 ? BigDecimal.valueOf(man) : BigDecimal.valueOf((1L << manBits) + man);
        int e = (exp == 0 ? 1 : exp) - bias - manBits;
        BigDecimal v = e >= 0 ? m.multiply(BigDecimal.valueOf(2).pow(e)) : m.divide(BigDecimal.valueOf(2).pow(-e));
        return sign == 1 ? v.negate() : v;
    }

    /** Nearest representable pattern, ties to even, overflow to infinity (round-to-nearest rule). */
    static int nearest(double x, int expBits, int manBits) {
        int maxExp = (1 << expBits) - 1;
        int signBit = Double.doubleToRawLongBits(x) < 0 ? 1 << (expBits + manBits) : 0;
        BigDecimal ax = new BigDecimal(Math.abs(x));
        int best = 0;
        BigDecimal bestDiff = null;
        int finiteMax = (maxExp << manBits) - 1;
        // binary search over the monotone positive patterns
        int lo = 0;
        int hi = finiteMax;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (exact(mid, expBits, manBits).compareTo(ax) <= 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        for (int c = Math.max(0, lo - 1); c <= Math.min(finiteMax, lo + 1); c++) {
            BigDecimal diff = exact(c, expBits, manBits).subtract(ax).abs();
            if (bestDiff == null || diff.compareTo(bestDiff) < 0 || diff.compareTo(bestDiff) == 0 && (c & 1) == 0) {
                best = c;
                bestDiff = diff;
            }
        }
        // beyond max + half an ulp rounds to infinity
        BigDecimal max = exact(finiteMax, expBits, manBits);
        BigDecimal halfUlp = max.subtract(exact(finiteMax - 1, expBits, manBits)).divide(BigDecimal.valueOf(2));
        if (ax.compareTo(max.add(halfUlp)) >= 0) {
            best = maxExp << manBits;
        }
        return signBit | best;
    }

    @Property(tries = 2000)
    void bf16RoundsToNearestEven(@ForAll int floatBits) {
        float f = Float.intBitsToFloat(floatBits);
        short h = HalfFloats.floatToBf16(f);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(h)));
            return;
        }
        assertEquals(nearest(f, 8, 7), h & 0xffff, () -> "bf16 of " + f);
    }

    @Property(tries = 2000)
    void f16RoundsToNearestEven(@ForAll int floatBits) {
        float f = Float.intBitsToFloat(floatBits);
        if (Math.abs(f) > 1e6 || (Math.abs(f) < 1e-9 && f != 0)) {
            f = f > 0 ? f % 70000 : f; // keep most draws inside the half range
        }
        short h = HalfFloats.floatToF16(f);
        if (Float.isNaN(f)) {
            assertTrue(Float.isNaN(HalfFloats.f16ToFloat(h)));
            return;
        }
        float ff = f;
        assertEquals(nearest(f, 5, 10), h & 0xffff, () -> "f16 of " + ff);
    }

    @Property(tries = 1000)
    void doubleRoundsOnceNotTwice(@ForAll long bits) {
        double d = Double.longBitsToDouble(bits);
        if (Double.isNaN(d) || Math.abs(d) > 1e38) {
            return;
        }
        assertEquals(nearest(d, 8, 7), HalfFloats.doubleToBf16(d) & 0xffff, () -> "bf16 of double " + d);
    }

    @Test
    void specialValuesAndTies() {
        // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties go to even (1.0)
        assertEquals(1.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1 + 0x1p-8f)));
        // 1 + 3·2^-8 is halfway between 1.0078125 (odd) and 1.015625 (even): rounds up
        assertEquals(1.015625f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(1 + 3 * 0x1p-8f)));
        assertEquals(Float.POSITIVE_INFINITY, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.MAX_VALUE)));
        assertEquals(Float.NEGATIVE_INFINITY, HalfFloats.f16ToFloat(HalfFloats.floatToF16(-70000f)));
        assertEquals(65504f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(65519f)));
        assertEquals(0x1p-24f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-24f))); // smallest subnormal
        assertEquals(0f, HalfFloats.f16ToFloat(HalfFloats.floatToF16(0x1p-26f)));
        assertEquals(0x1p-133f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(0x1p-133f))); // bf16 subnormal
        assertTrue(Float.isNaN(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x7f800001)))));
        assertEquals(-0.0f, HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(-0.0f)));
    }

    @Test
    void tensorConversionsRoundTrip() {
        Tensor x = Tensor.of(new float[] {1.5f, -2.25f, 1e-3f, 65504f, Float.NaN, Float.NEGATIVE_INFINITY});
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            float[] back = x.to(dt).to(DType.F32).toFloatArray();
            assertEquals(1.5f, back[0]);
            assertEquals(-2.25f, back[1]);
            assertTrue(Float.isNaN(back[4]));
            assertEquals(Float.NEGATIVE_INFINITY, back[5]);
        }
        assertArrayEquals(new long[] {1, -2, 0, 65504, 0, Long.MIN_VALUE},
                Arrays.stream(new double[] {1.5, -2.25, 1e-3, 65504, 0, Double.NEGATIVE_INFINITY}).mapToLong(d -> (long) d).toArray());
        assertArrayEquals(new long[] {1, -2, 0, 65504}, x.narrow(0, 0, 4).to(DType.I64).toLongArray());
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1}, x.to(DType.BOOL).to(DType.F32).toFloatArray());
    }
}
