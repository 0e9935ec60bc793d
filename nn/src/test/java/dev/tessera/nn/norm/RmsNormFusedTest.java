package dev.tessera.nn.norm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

    /**
     * The F32 path (float lanes on the vector unit, lane sums in double; or the double loop with SIMD off)
     * stays within float rounding of the F64 path, values and both gradients, at every row length.
     */
    @Property(tries = 40)
    void f32AgreesWithF64(@ForAll @IntRange(min = 1, max = 9) int rows, @ForAll @IntRange(min = 1, max = 70) int d, @ForAll long seed) {
        Tensor w = Tensor.randn(new Generator(seed + 2), DType.F64, d);
        Tensor x = Tensor.randn(new Generator(seed), DType.F64, rows, d);
        Tensor g = Tensor.randn(new Generator(seed + 1), DType.F64, rows, d);
        double[][] results = new double[2][];
        double[][] inputGrads = new double[2][];
        double[][] weightGrads = new double[2][];
        DType[] types = {DType.F64, DType.F32};
        for (int k = 0; k < 2; k++) {
            Variable xv = Variable.of(x.to(types[k]), true);
            Variable wv = Variable.of(w.to(types[k]), true);
            Variable y = new RmsNormFunction(1e-5).call(xv, wv);
            y.backward(g.to(types[k]));
            results[k] = y.data().toDoubleArray();
            inputGrads[k] = xv.grad().toDoubleArray();
            weightGrads[k] = wv.grad().toDoubleArray();
        }
        assertClose(results[0], results[1], "y");
        assertClose(inputGrads[0], inputGrads[1], "dx");
        assertClose(weightGrads[0], weightGrads[1], "dw");
    }

    private static void assertClose(double[] expected, double[] actual, String what) {
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, scale), what + "[" + i + "]");
        }
    }
}
