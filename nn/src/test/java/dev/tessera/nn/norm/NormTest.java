package dev.tessera.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A2/A3: LayerNorm (with and without bias) and RMSNorm against the paper equations in double. */
class NormTest {

    private static void randomizeParams(Module m, long seed) {
        long s = seed;
        for (Variable p : m.parameters()) {
            p.data().copyFromInPlace(Ref.randn(s++, 1, p.shape()).add(1));
        }
    }

    @Property(tries = 40)
    void layerNormMatchesReference(@ForAll @IntRange(min = 1, max = 4) int rows, @ForAll @IntRange(min = 1, max = 9) int dim,
            @ForAll boolean bias, @ForAll boolean affine, @ForAll long seed) {
        LayerNorm ln = new LayerNorm(dim, 1e-5, affine, bias, DType.F64);
        randomizeParams(ln, seed);
        Tensor x = Ref.randn(seed, 2, rows, dim).add(0.5);
        Map<String, Tensor> s = ln.stateDict();
        double[] expected = Ref.layerNorm(Ref.d(x), dim, Ref.p(s, "weight"), Ref.p(s, "bias"), 1e-5);
        Ref.assertClose(expected, ln.forward(Variable.constant(x)).data(), 1e-12);
        // F32 module, F32 input: same values to float precision, against the reference of the rounded input (two
        // close values in a row of two make (x − μ)/σ amplify the input's own rounding far beyond 1e-5)
        LayerNorm f = new LayerNorm(dim, 1e-5, affine, bias, DType.F32);
        f.loadStateDict(s, true);
        Tensor x32 = x.to(DType.F32);
        double[] expected32 = Ref.layerNorm(Ref.d(x32), dim, Ref.p(s, "weight"), Ref.p(s, "bias"), 1e-5);
        Ref.assertClose(expected32, f.forward(Variable.constant(x32)).data(), 1e-5);
    }

    @Property(tries = 40)
    void rmsNormMatchesReference(@ForAll @IntRange(min = 1, max = 4) int rows, @ForAll @IntRange(min = 1, max = 9) int dim,
            @ForAll long seed) {
        RMSNorm n = new RMSNorm(dim, 1e-6, true, DType.F64);
        randomizeParams(n, seed);
        Tensor x = Ref.randn(seed, 2, rows, 3, dim);
        double[] expected = Ref.rmsNorm(Ref.d(x), dim, Ref.d(n.weight().data()), 1e-6);
        Ref.assertClose(expected, n.forward(Variable.constant(x)).data(), 1e-12);
        RMSNorm f = new RMSNorm(dim, 1e-6);
        f.loadStateDict(n.stateDict(), true);
        Ref.assertClose(expected, f.forward(Variable.constant(x.to(DType.F32))).data(), 1e-5);
    }

    @Test
    void rmsNormComputesInF32ForHalfInputsAndReturnsInputDtype() {
        RMSNorm n = new RMSNorm(8, 1e-6);
        Tensor x = Ref.randn(3, 1, 2, 8).to(DType.BF16);
        Variable y = n.forward(Variable.constant(x));
        assertEquals(DType.F32, y.dtype()); // bf16 normalised value × F32 weight promotes, as HF's weight * x.to(dtype)
        double[] expected = Ref.rmsNorm(Ref.d(x.to(DType.F64)), 8, null, 1e-6);
        Ref.assertClose(expected, y.data(), 1e-2);
    }

    @Test
    void gradients() {
        for (boolean bias : new boolean[] {false, true}) {
            LayerNorm ln = new LayerNorm(5, 1e-5, true, bias, DType.F64);
            randomizeParams(ln, 7);
            Variable x = Ref.var(Ref.randn(11, 1.5, 2, 3, 5));
            ParamGradCheck.check(() -> ln.forward(x), ParamGradCheck.concat(ln.parameters(), x));
        }
        RMSNorm n = new RMSNorm(6, 1e-6, true, DType.F64);
        randomizeParams(n, 8);
        Variable x = Ref.var(Ref.randn(12, 1.5, 4, 6));
        ParamGradCheck.check(() -> n.forward(x), ParamGradCheck.concat(n.parameters(), x));
    }

    @Test
    void namesAndErrors() {
        assertEquals(List.of("weight", "bias"), List.copyOf(new LayerNorm(4, 1e-5).namedParameters().keySet()));
        assertEquals(List.of("weight"), List.copyOf(new LayerNorm(4, 1e-5, true, false, DType.F32).namedParameters().keySet()));
        assertEquals(List.of("weight"), List.copyOf(new RMSNorm(4, 1e-5).namedParameters().keySet()));
        var e = assertThrows(IllegalArgumentException.class, () -> new RMSNorm(4, 1e-5).forward(Variable.constant(Tensor.zeros(2, 3))));
        assertEquals("RMSNorm: input has 3 features, expected 4 (input shape [2, 3])", e.getMessage());
    }
}
