package dev.tessera.nn.position;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The fused RoPE equals its composite of primitives in values and gradients, and passes gradcheck. */
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
}
