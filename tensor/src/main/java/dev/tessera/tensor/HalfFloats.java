package dev.tessera.tensor;

/**
 * Bit-level conversions for the 16-bit float formats. Both round to nearest, ties to even, keep
 * NaN a (quiet) NaN, saturate to ±Inf past the largest finite value and keep subnormals.
 */
public final class HalfFloats {
    private HalfFloats() {}

    /** bfloat16 bits (sign, 8 exponent, 7 mantissa) nearest to {@code f}. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep sign and payload top, force quiet
        }
        int lsb = (bits >>> 16) & 1;
        int rounded = bits + 0x7fff + lsb; // round half to even on the dropped 16 bits
        return (short) (rounded >>> 16);
    }

    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** IEEE binary16 bits nearest to {@code f} (the JDK rounds to nearest even). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    public static float f16ToFloat(short h) {
        return Float.float16ToFloat(h);
    }

    /** Rounds a double straight to bfloat16 (one rounding, via the nearest float, is exact enough
     *  except for double-rounding ties, which we avoid by rounding to odd in the float step). */
    public static short doubleToBf16(double d) {
        return floatToBf16(roundToOddFloat(d));
    }

    public static short doubleToF16(double d) {
        return floatToF16(roundToOddFloat(d));
    }

    /** bfloat16 bits nearest to the integer {@code v}, rounded once (not through double, which would round twice). */
    public static short longToBf16(long v) {
        return floatToBf16(roundToOddFloat(v));
    }

    /** IEEE binary16 bits nearest to the integer {@code v}, rounded once. */
    public static short longToF16(long v) {
        return floatToF16(roundToOddFloat(v));
    }

    /**
     * Long→float with round-to-odd: truncated to 24 significant bits, the last one set when any
     * dropped bit was. A float has 13 more bits than binary16 and 16 more than bfloat16, so rounding
     * this to either (to nearest even) gives the correctly rounded integer.
     */
    static float roundToOddFloat(long v) {
        if (v == Long.MIN_VALUE) {
            return -0x1p63f;
        }
        long a = Math.abs(v);
        int drop = Math.max(0, 64 - Long.numberOfLeadingZeros(a) - 24);
        long kept = a >>> drop;
        if ((kept << drop) != a) {
            kept |= 1;
        }
        float f = (float) (kept << drop); // at most 24 significant bits: exact
        return v < 0 ? -f : f;
    }

    /** Double→float with round-to-odd, so a second rounding to a narrower format is correct. */
    static float roundToOddFloat(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return (float) d;
        }
        float f = (float) d;
        if ((double) f == d) {
            return f;
        }
        float truncated = Math.abs((double) f) > Math.abs(d) ? (f > 0 ? Math.nextDown(f) : Math.nextUp(f)) : f;
        return Float.intBitsToFloat(Float.floatToRawIntBits(truncated) | 1);
    }
}
