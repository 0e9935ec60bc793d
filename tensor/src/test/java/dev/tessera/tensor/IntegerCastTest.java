package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * Integer → floating casts round once, to nearest with ties to even, straight from the integer (the
 * README's promise). Rounding a long through double first rounds twice: 2^60 + 2^36 + 1 becomes the
 * double 2^60 + 2^36 (the sticky 1 is lost), a tie that float then breaks to 2^60 instead of the
 * correct 2^60 + 2^37. The reference rounds the exact BigInteger to the format's significand width.
 */
class IntegerCastTest {
    /** Significand bits (with the hidden bit) of each floating type; F16 also overflows past 65504. */
    static int precision(DType dt) {
        return switch (dt) {
            case F64 -> 53;
            case F32 -> 24;
            case BF16 -> 8;
            case F16 -> 11;
            default -> throw new IllegalArgumentException(dt.toString());
        };
    }

    /** v rounded to nearest-even at the type's precision, as an exact double (±inf past F16's range). */
    static double reference(long v, DType dt) {
        BigInteger a = BigInteger.valueOf(v).abs();
        int p = precision(dt);
        int shift = a.bitLength() - p;
        if (shift > 0) {
            BigInteger q = a.shiftRight(shift);
            BigInteger rem = a.subtract(q.shiftLeft(shift));
            int c = rem.compareTo(BigInteger.ONE.shiftLeft(shift - 1));
            if (c > 0 || (c == 0 && q.testBit(0))) {
                q = q.add(BigInteger.ONE);
            }
            a = q.shiftLeft(shift);
        }
        double r = new BigDecimal(a).doubleValue(); // exact: at most 53 significant bits
        if (dt == DType.F16 && r > 65504) {
            r = Double.POSITIVE_INFINITY;
        }
        return v < 0 ? -r : r;
    }

    static final long P60 = 1L << 60;

    /** Ties and sticky bits at each precision, both signs, and the ends of the range. */
    static long[] edgeCases() {
        java.util.List<Long> out = new java.util.ArrayList<>(java.util.List.of(0L, 1L, -1L, Long.MAX_VALUE, Long.MIN_VALUE,
                Long.MIN_VALUE + 1, P60 + (1L << 36) + 1, 65504L, 65519L, 65520L, 65536L, (long) Integer.MAX_VALUE, (long) Integer.MIN_VALUE));
        for (int p : new int[] {8, 11, 24, 53}) {
            for (int top : new int[] {p + 1, p + 2, p + 7, 62}) {
                long base = 1L << top;
                long half = 1L << (top - p); // half an ulp at this magnitude
                for (long v : new long[] {base + half, base + 3 * half, base + half + 1, base + half - 1, base + 3 * half - 1,
                    base + 3 * half + 1, base + 2 * half - 1, (base << 1) - 1}) {
                    out.add(v);
                    out.add(-v);
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static void check(String what, long[] values, DType to, Function<Tensor, Tensor> cast, DType from) {
        Tensor src = Tensor.of(values).to(from);
        long[] exact = src.toLongArray(); // the I32 cast wraps; the reference starts from what the tensor holds
        double[] got = Ref.values(cast.apply(src));
        for (int i = 0; i < values.length; i++) {
            assertEquals(reference(exact[i], to), got[i], what + " " + from + " → " + to + " of " + exact[i]);
        }
    }

    @Test
    void theReviewersCase() {
        assertEquals(0x1p60 + 0x1p37, Tensor.of(new long[] {P60 + (1L << 36) + 1}).to(DType.F32).item());
    }

    @Test
    void edgeCasesRoundOnceToNearestEven() {
        long[] values = edgeCases();
        for (DType from : new DType[] {DType.I64, DType.I32}) {
            for (DType to : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
                check("to", values, to, t -> t.to(to), from);
                check("strided to", values, to, t -> t.reshape(-1, 1).expand(-1, 2).to(to).select(1, 1), from);
                check("promoted by add", values, to, t -> t.add(Tensor.zeros(to, values.length)), from);
                check("promoted by where", values, to, t -> Tensor.where(Tensor.ones(DType.BOOL, values.length), t,
                        Tensor.zeros(to, values.length)), from);
            }
            Tensor src = Tensor.of(values).to(from);
            for (int i = 0; i < values.length; i++) {
                long v = src.getLong(i);
                assertEquals((float) reference(v, DType.F32), src.getFloat(i), "getFloat of " + v);
                assertEquals((float) reference(v, DType.F32), src.storage().getFloat(i), "Storage.getFloat of " + v);
            }
        }
    }

    @Property(tries = 300)
    void randomLongsRoundOnceToNearestEven(@ForAll long bits, @ForAll @IntRange(min = 0, max = 63) int width) {
        long v = width == 63 ? bits : bits >> (63 - width); // every magnitude, not only the top one
        for (DType to : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            Tensor t = Tensor.of(new long[] {v, -v, v | 1});
            double[] got = Ref.values(t.to(to));
            assertEquals(reference(v, to), got[0], to + " of " + v);
            assertEquals(reference(-v, to), got[1], to + " of " + -v);
            assertEquals(reference(v | 1, to), got[2], to + " of " + (v | 1));
        }
    }
}
