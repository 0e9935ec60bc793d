package dev.tessera.nn.position;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The fused RoPE equals its composite of primitives in values and gradients, and passes gradcheck;
 * heads that arrive as a transposed view (as attention's queries and keys do) are rotated in place
 * of their layout, with the same bits as a contiguous copy and no copy made.
 */
class RopeFusedTest {
    @Property(tries = 40)
    void fusedEqualsComposite(@ForAll RotaryEmbedding.Convention convention, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 3) int h, @ForAll @IntRange(min = 1, max = 7) int t,
            @ForAll @IntRange(min = 1, max = 4) int halfDim, @ForAll @IntRange(min = 0, max = 5) int offset, @ForAll long seed) {
        int d = 2 * halfDim;
        RotaryEmbedding rope = new RotaryEmbedding(d, 500000, convention, 4, DType.F64);
        Tensor x = Tensor.randn(new Generator(seed), DType.F64, b, h, t, d);
        Tensor g = Tensor.randn(new Generator(seed + 1), DType.F64, b, h, t, d);
        Variable fused = Variable.of(x, true);
        Variable composite = Variable.of(x, true);
        Variable yf = rope.apply(fused, offset);
        Variable yc = rope.applyComposite(composite, offset);
        assertArrayEquals(yc.data().toDoubleArray(), yf.data().toDoubleArray(), 1e-12);
        yf.backward(g);
        yc.backward(g);
        assertArrayEquals(composite.grad().toDoubleArray(), fused.grad().toDoubleArray(), 1e-12);
        GradCheck.check(v -> rope.apply(v[0], offset), x);
    }

    /**
     * F32 rows go through the vector unit in whole vectors and a scalar loop for the rest: both give
     * the bits of the plain float formulas, forward and backward, at every head size (tails included).
     */
    @Property(tries = 40)
    void f32MatchesThePlainFloatLoopBitForBit(@ForAll RotaryEmbedding.Convention convention,
            @ForAll @IntRange(min = 1, max = 40) int halfDim, @ForAll @IntRange(min = 0, max = 3) int offset, @ForAll long seed) {
        int d = 2 * halfDim;
        int t = 3;
        Tensor x = Tensor.randn(new Generator(seed), DType.F32, 2, t, 2, d).transpose(1, 2); // (B, H, T, D) view of (B, T, H, D)
        Tensor g = Tensor.randn(new Generator(seed + 1), DType.F32, 2, 2, t, d);
        // table rows for positions offset … offset + t − 1, as rows of a longer table (any values do for this check)
        Tensor cosTable = Tensor.randn(new Generator(seed + 2), DType.F32, t + offset, halfDim).narrow(0, offset, t);
        Tensor sinTable = Tensor.randn(new Generator(seed + 3), DType.F32, t + offset, halfDim).narrow(0, offset, t);
        float[] cos = cosTable.contiguous().toFloatArray();
        float[] sin = sinTable.contiguous().toFloatArray();
        Variable v = Variable.of(x, true);
        Variable y = new RopeFunction(convention).call(v, Variable.constant(cosTable), Variable.constant(sinTable));
        y.backward(g);
        boolean interleaved = convention == RotaryEmbedding.Convention.INTERLEAVED;
        assertArrayEquals(plainRotation(x.contiguous().toFloatArray(), cos, sin, t, d, interleaved, 1), y.data().contiguous().toFloatArray());
        assertArrayEquals(plainRotation(g.toFloatArray(), cos, sin, t, d, interleaved, -1), v.grad().contiguous().toFloatArray());
    }

    /** The rotation of contiguous (…, T, D) rows in float, one pair at a time. */
    private static float[] plainRotation(float[] x, float[] cos, float[] sin, int t, int d, boolean interleaved, int direction) {
        int half = d / 2;
        float[] y = new float[x.length];
        for (int row = 0; row < x.length / d; row++) {
            int pos = row % t;
            for (int i = 0; i < half; i++) {
                int ia = row * d + (interleaved ? 2 * i : i);
                int ib = row * d + (interleaved ? 2 * i + 1 : i + half);
                float c = cos[pos * half + i];
                float s = direction * sin[pos * half + i];
                y[ia] = x[ia] * c - x[ib] * s;
                y[ib] = x[ib] * c + x[ia] * s;
            }
        }
        return y;
    }

    @Property(tries = 20)
    void transposedHeadsKeepTheirLayout(@ForAll RotaryEmbedding.Convention convention, @ForAll boolean f32, @ForAll long seed) {
        DType dt = f32 ? DType.F32 : DType.F64;
        RotaryEmbedding rope = new RotaryEmbedding(8, 10000, convention, 16, dt);
        Tensor projected = Tensor.randn(new Generator(seed), dt, 2, 5, 3, 8); // (B, T, H, D)
        Tensor g = Tensor.randn(new Generator(seed + 1), dt, 2, 5, 3, 8).transpose(1, 2);
        Variable heads = Variable.of(projected, true);
        Variable dense = Variable.of(projected.transpose(1, 2).contiguous(), true);
        Variable y = rope.apply(heads.transpose(1, 2), 2); // (B, H, T, D), a strided view
        Variable expected = rope.apply(dense, 2);
        assertArrayEquals(expected.data().toDoubleArray(), y.data().toDoubleArray(), 0.0);
        assertArrayEquals(projected.transpose(1, 2).strides(), y.data().strides(), "the rotation keeps its input's layout");
        y.backward(g);
        expected.backward(g);
        assertArrayEquals(dense.grad().toDoubleArray(), heads.grad().transpose(1, 2).toDoubleArray(), 0.0);
    }

    @org.junit.jupiter.api.Test
    void transposedHeadsAreNotCopied() {
        // a species forced wider than the machine's (512 bits on AVX2) is emulated by the JDK, boxing every vector
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.tessera.tensor.Simd.F32.vectorBitSize()
                <= jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(), "species " + dev.tessera.tensor.Simd.F32 + " is emulated here");
        RotaryEmbedding rope = new RotaryEmbedding(64, 10000, RotaryEmbedding.Convention.INTERLEAVED, 64, DType.F32);
        Variable heads = Variable.constant(Tensor.randn(new Generator(15), DType.F32, 1, 64, 4, 64).transpose(1, 2)); // (1, 4, 64, 64)
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long out = 4 * 64 * 64 * Float.BYTES;
        long least = Long.MAX_VALUE;
        // until C2 has compiled the rotation (interpreted and C1 code box every vector): 200 calls were
        // not always enough when this class ran first in its JVM; stop as soon as one call is lean
        long deadline = System.nanoTime() + 20_000_000_000L;
        for (int i = 0; i < 200 || least >= out + (16 << 10) && System.nanoTime() < deadline; i++) {
            long before = threads.getThreadAllocatedBytes(id);
            rope.apply(heads, 0);
            least = Math.min(least, threads.getThreadAllocatedBytes(id) - before);
        }
        assertTrue(least < out + (16 << 10), "rope allocated " + least + " bytes for a " + out + "-byte result");
    }
}
