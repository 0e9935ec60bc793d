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
        float[] lanes = v.toArray();
        double s = 0;
        for (float x : lanes) {
            s += x;
        }
        return s;
    }

    /**
     * Σ lanes in float by halving: lane i + lane i+L/2, then again, down to one lane. Built from
     * exact-order adds and constant shuffles, so it gives the same bits in every JIT tier (which
     * {@code reduceLanes(ADD)} does not promise) and allocates nothing.
     */
    static float sumLanesInOrder(FloatVector v) {
        for (VectorShuffle<Float> half : HALVING_F32) {
            v = v.add(v.rearrange(half));
        }
        return v.lane(0);
    }

    @SuppressWarnings("unchecked")
    private static final VectorShuffle<Float>[] HALVING_F32 = halvingShuffles();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halvingShuffles() {
        int lanes = F32.length();
        int steps = Integer.numberOfTrailingZeros(lanes);
        VectorShuffle<Float>[] out = new VectorShuffle[steps];
        for (int s = 0, half = lanes / 2; s < steps; s++, half /= 2) {
            int h = half;
            out[s] = VectorShuffle.fromOp(F32, i -> (i + h) % lanes);
        }
        return out;
    }

    static int loopBoundF64(int n) {
        return ENABLED ? F64.loopBound(n) : 0;
    }
}
