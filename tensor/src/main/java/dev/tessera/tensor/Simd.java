package dev.tessera.tensor;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
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

    static int loopBoundF64(int n) {
        return ENABLED ? F64.loopBound(n) : 0;
    }
}
