package dev.tessera.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every kernel uses. {@code -Dtessera.simd=off|128|256|512} forces a width (or
 * the scalar twins) so each path can be tested on any machine; the default is the preferred one.
 */
public final class Simd {
    /** False when {@code -Dtessera.simd=off}: kernels take their scalar loops. */
    public static final boolean ENABLED;
    public static final VectorSpecies<Float> F32;
    public static final VectorSpecies<Double> F64;

    static {
        String setting = System.getProperty("tessera.simd", "preferred");
        VectorShape shape = switch (setting) {
            case "128" -> VectorShape.S_128_BIT;
            case "256" -> VectorShape.S_256_BIT;
            case "512" -> VectorShape.S_512_BIT;
            case "off", "preferred" -> VectorShape.preferredShape();
            default -> throw new IllegalArgumentException("tessera.simd must be off, 128, 256 or 512, got " + setting);
        };
        ENABLED = !setting.equals("off");
        F32 = FloatVector.SPECIES_PREFERRED.withShape(shape);
        F64 = DoubleVector.SPECIES_PREFERRED.withShape(shape);
    }

    private Simd() {}

    /** Upper bound of the vector loop over {@code n} floats: 0 when SIMD is off, so the scalar tail does all. */
    static int loopBound(int n) {
        return ENABLED ? F32.loopBound(n) : 0;
    }

    /**
     * Sum of the lanes in lane order. {@code reduceLanes(ADD)} leaves the order unspecified, and the
     * JIT-compiled and interpreted forms do differ, which would break bitwise reproducibility.
     */
    static double sumLanes(FloatVector v) {
        return sumInOrder(v.toArray(), v.length());
    }

    /**
     * lanes[0] + lanes[1] + … + lanes[count − 1], in that order, in double: {@link #sumLanes} of a vector already stored
     * (public for the fused row functions of other modules, which store their accumulators themselves).
     */
    public static double sumInOrder(float[] lanes, int count) {
        double s = 0;
        for (int i = 0; i < count; i++) {
            s += lanes[i];
        }
        return s;
    }

    /**
     * Σ lanes in float by halving: lane i + lane i+L/2, then again, down to one lane. Built from
     * exact-order adds and constant shuffles, so it gives the same bits in every JIT tier (which
     * {@code reduceLanes(ADD)} does not promise) and allocates nothing.
     */
    static float sumLanesInOrder(FloatVector v) {
        // one add per halving, unrolled over constant shuffles held in final fields: a loop over an
        // array of shuffles left C2 a non-constant shuffle and JFR found the vectors boxed
        int lanes = F32.length();
        if (lanes >= 16) {
            v = v.add(v.rearrange(HALF_8));
        }
        if (lanes >= 8) {
            v = v.add(v.rearrange(HALF_4));
        }
        if (lanes >= 4) {
            v = v.add(v.rearrange(HALF_2));
        }
        if (lanes >= 2) {
            v = v.add(v.rearrange(HALF_1));
        }
        return v.lane(0);
    }

    private static final VectorShuffle<Float> HALF_8 = halving(8);
    private static final VectorShuffle<Float> HALF_4 = halving(4);
    private static final VectorShuffle<Float> HALF_2 = halving(2);
    private static final VectorShuffle<Float> HALF_1 = halving(1);

    /** Lane i reads lane i + h (wrapping; only the low lanes matter). */
    private static VectorShuffle<Float> halving(int h) {
        int lanes = F32.length();
        return VectorShuffle.fromOp(F32, i -> (i + h) % lanes);
    }

    static int loopBoundF64(int n) {
        return ENABLED ? F64.loopBound(n) : 0;
    }
}
