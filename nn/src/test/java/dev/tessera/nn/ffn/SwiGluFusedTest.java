package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The fused SwiGLU gate equals silu(gate)·up in values and gradients: in F64 against the composite
 * (to 1e-12) and by gradcheck; in F32 (the vector kernel, lengths around the vector width) against
 * a double-precision reference within a few float ulps.
 */
class SwiGluFusedTest {
    @Property(tries = 40)
    void fusedEqualsCompositeInF64(@ForAll @IntRange(min = 1, max = 3) int rows, @ForAll @IntRange(min = 1, max = 40) int cols,
            @ForAll long seed) {
        Tensor a = Tensor.randn(new Generator(seed), DType.F64, rows, cols).mul(3);
        Tensor b = Tensor.randn(new Generator(seed + 1), DType.F64, rows, cols);
        Tensor g = Tensor.randn(new Generator(seed + 2), DType.F64, rows, cols);
        Variable af = Variable.of(a, true);
        Variable bf = Variable.of(b, true);
        Variable ac = Variable.of(a, true);
        Variable bc = Variable.of(b, true);
        Variable yf = new SwiGluFunction().call(af, bf);
        Variable yc = ac.silu().mul(bc);
        assertArrayEquals(yc.data().toDoubleArray(), yf.data().toDoubleArray(), 1e-12);
        yf.backward(g);
        yc.backward(g);
        assertArrayEquals(ac.grad().toDoubleArray(), af.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(bc.grad().toDoubleArray(), bf.grad().toDoubleArray(), 1e-12);
        GradCheck.check(v -> new SwiGluFunction().call(v[0], v[1]), a, b);
    }

    @Property(tries = 40)
    void f32KernelMatchesDoubleReference(@ForAll @IntRange(min = 1, max = 70) int n, @ForAll long seed) {
        Tensor a = Tensor.randn(new Generator(seed), DType.F32, n).mul(4);
        Tensor b = Tensor.randn(new Generator(seed + 1), DType.F32, n);
        Tensor g = Tensor.randn(new Generator(seed + 2), DType.F32, n);
        Variable av = Variable.of(a, true);
        Variable bv = Variable.of(b, true);
        Variable y = new SwiGluFunction().call(av, bv);
        y.backward(g);
        assertEquals(DType.F32, y.data().dtype());
        float[] x = a.toFloatArray();
        float[] u = b.toFloatArray();
        float[] gr = g.toFloatArray();
        for (int i = 0; i < n; i++) {
            double s = 1 / (1 + Math.exp(-x[i]));
            double silu = x[i] * s;
            double dy = silu * u[i];
            double da = gr[i] * u[i] * s * (1 + x[i] * (1 - s));
            double db = gr[i] * silu;
            assertEquals(dy, y.data().toFloatArray()[i], 1e-5 * (1 + Math.abs(dy)), "y[" + i + "]");
            assertEquals(da, av.grad().toFloatArray()[i], 1e-5 * (1 + Math.abs(da)), "da[" + i + "]");
            assertEquals(db, bv.grad().toFloatArray()[i], 1e-5 * (1 + Math.abs(db)), "db[" + i + "]");
        }
    }

    @Test
    void forwardGivesTheCompositeBitsInF32() {
        Tensor a = Tensor.randn(new Generator(5), DType.F32, 3, 37).mul(3);
        Tensor b = Tensor.randn(new Generator(6), DType.F32, 3, 37);
        assertArrayEquals(a.silu().mul(b).toFloatArray(), dev.tessera.tensor.SwiGlu.forward(a, b).toFloatArray());
    }

    @Test
    void mismatchedShapesAreOneLineErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> dev.tessera.tensor.SwiGlu.forward(Tensor.zeros(DType.F32, 2, 3), Tensor.zeros(DType.F32, 3, 2)));
        assertEquals("swiglu: gate, up must have the same shape, got [2, 3], [3, 2]", e.getMessage());
    }
}
