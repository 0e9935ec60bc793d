package dev.tessera.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The fused RMSNorm equals its composite in values and both gradients, and passes gradcheck. */
class RmsNormFusedTest {
    @Property(tries = 40)
    void fusedEqualsComposite(@ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 1, max = 33) int d,
            @ForAll long seed) {
        RMSNorm norm = new RMSNorm(d, 1e-5, true, DType.F64);
        Tensor w = Tensor.randn(new Generator(seed + 2), DType.F64, d);
        norm.loadStateDict(java.util.Map.of("weight", w), true);
        Tensor x = Tensor.randn(new Generator(seed), DType.F64, rows, 2, d);
        Tensor g = Tensor.randn(new Generator(seed + 1), DType.F64, rows, 2, d);
        Variable a = Variable.of(x, true);
        Variable b = Variable.of(x, true);
        Variable ya = norm.forward(a);
        ya.backward(g);
        Tensor fusedWeightGrad = norm.weight().grad();
        norm.weight().zeroGrad();
        Variable yb = norm.forwardComposite(b);
        yb.backward(g);
        assertArrayEquals(yb.data().toDoubleArray(), ya.data().toDoubleArray(), 1e-12);
        assertArrayEquals(b.grad().toDoubleArray(), a.grad().toDoubleArray(), 1e-11);
        assertArrayEquals(norm.weight().grad().toDoubleArray(), fusedWeightGrad.toDoubleArray(), 1e-11);
        norm.weight().zeroGrad();
        GradCheck.check(v -> new RmsNormFunction(1e-5).call(v[0], v[1]), x, w);
    }
}
