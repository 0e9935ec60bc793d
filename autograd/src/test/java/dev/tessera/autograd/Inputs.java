package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/** Seeded F64 inputs for gradient checks: small shapes, optionally laid out non-contiguously. */
final class Inputs {
    private Inputs() {}

    enum Layout { CONTIGUOUS, TRANSPOSED, STEP_SLICED }

    static Arbitrary<int[]> shapes(int minRank, int maxRank) {
        return Arbitraries.integers().between(1, 4).array(int[].class).ofMinSize(minRank).ofMaxSize(maxRank);
    }

    /** Pairs of broadcast-compatible shapes (the second may drop leading dims or have 1s). */
    static Arbitrary<int[][]> broadcastPairs() {
        return Combinators.combine(shapes(0, 3), Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 2))
                .as((shape, ones, drop) -> {
                    int[] other = Arrays.copyOfRange(shape, Math.min(drop, shape.length), shape.length);
                    for (int d = 0; d < other.length; d++) {
                        if ((ones >> d & 1) == 1) {
                            other[d] = 1;
                        }
                    }
                    return new int[][] {shape, other};
                });
    }

    /** Values uniform in [lo, hi), F64, with the requested layout (same logical values either way). */
    static Tensor make(int[] shape, long seed, Layout layout, double lo, double hi) {
        Generator g = new Generator(seed);
        if (layout == Layout.TRANSPOSED && shape.length >= 2) {
            int[] s = shape.clone();
            int r = s.length;
            s[r - 1] = shape[r - 2];
            s[r - 2] = shape[r - 1];
            return uniform(g, s, lo, hi).transpose(-1, -2);
        }
        if (layout == Layout.STEP_SLICED && shape.length >= 1) {
            int[] s = shape.clone();
            s[s.length - 1] = 2 * s[s.length - 1];
            return uniform(g, s, lo, hi).slice(-1, 0, Integer.MAX_VALUE, 2);
        }
        return uniform(g, shape, lo, hi);
    }

    static Tensor uniform(Generator g, int[] shape, double lo, double hi) {
        return Tensor.rand(g, DType.F64, shape).mul(hi - lo).add(lo);
    }

    /** Uniform values kept at least {@code gap} away from zero (for kinks at 0). */
    static Tensor awayFromZero(int[] shape, long seed, Layout layout, double gap) {
        Tensor x = make(shape, seed, layout, -2, 2);
        return x.add(x.sign().mul(gap));
    }
}
