package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** G9 autocast: matmul computes in the low type from recorded casts; everything else, and F64, is untouched. */
class AutocastTest {
    private static Variable leaf(long seed, DType t, int... shape) {
        return Variable.of(Tensor.randn(new Generator(seed), t, shape), true);
    }

    /** x rounded to {@code low} and widened back, element by element, as a double reference. */
    private static double[] rounded(Tensor x, DType low) {
        return x.to(low).to(DType.F64).toDoubleArray();
    }

    /** Against a double-precision reference from the rounded inputs, over random shapes: a Linear-shaped product (B, T, C)·(out, C)ᵀ. */
    @Property(tries = 40)
    void matmulRoundsItsInputsAndProductButKeepsF32AndGradientsReachF32Leaves(@ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 1, max = 9) int c, @ForAll @IntRange(min = 1, max = 6) int out,
            @ForAll boolean bf16, @ForAll long seed) {
        DType low = bf16 ? DType.BF16 : DType.F16;
        Variable a = leaf(seed, DType.F32, b, t, c); // (B, T, C)
        Variable w = leaf(seed + 1, DType.F32, out, c); // (out, C), as Linear holds it
        Variable y;
        try (var s = Autocast.enable(low)) {
            y = a.matmul(w.mT()); // (B, T, out)
        }
        assertEquals(DType.F32, y.dtype(), "autocast hands the product on in the type it has outside autocast");
        // reference in double from the rounded inputs; the product itself is rounded to low once
        double[] ra = rounded(a.data(), low);
        double[] rw = rounded(w.data(), low);
        double[] got = y.data().toDoubleArray();
        double[] asLow = rounded(y.data(), low);
        double ulp = bf16 ? 0x1p-8 : 0x1p-11;
        int rows = b * t;
        assertSums("y", got, rows, out, c, ulp, (r, o, k) -> ra[r * c + k] * rw[o * c + k]);
        assertArrayEquals(asLow, got, 0.0, "the product is a " + low + " value");
        Tensor g = Tensor.randn(new Generator(seed + 2), DType.F32, b, t, out);
        y.backward(g);
        assertEquals(DType.F32, a.grad().dtype());
        assertEquals(DType.F32, w.grad().dtype());
        // the gradient is the low-precision product's: dW = r(r(g)ᵀ · r(a)) summed over (B, T)
        double[] rg = rounded(g, low);
        assertSums("dW", w.grad().toDoubleArray(), out, c, rows, ulp, (o, k, r) -> rg[r * out + o] * ra[r * c + k]);
    }

    /** One term of a product's element (i, j): the p-th of the sum. */
    private interface Term {
        double at(int i, int j, int p);
    }

    /** got[i·cols + j] equals Σ_p term(i, j, p) over p &lt; inner within |Σ|·ulp (one rounding) + Σ|term|·1e-6 (F32 accumulation). */
    private static void assertSums(String what, double[] got, int rows, int cols, int inner, double ulp, Term term) {
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double ref = 0;
                double mag = 0;
                for (int p = 0; p < inner; p++) {
                    ref += term.at(i, j, p);
                    mag += Math.abs(term.at(i, j, p));
                }
                assertEquals(ref, got[i * cols + j], Math.abs(ref) * ulp + mag * 1e-6, what + "[" + i + "," + j + "]");
            }
        }
    }

    /** r(x): rounded to BF16 and back, outside autocast. */
    private static Variable r(Variable x) {
        return x.to(DType.BF16).to(DType.F32);
    }

    @Test
    void sameBitsAsExplicitRoundingAndDifferentFromF32() {
        Variable a = leaf(4, DType.F32, 6, 9);
        Variable b = leaf(5, DType.F32, 9, 3);
        Variable auto;
        try (var s = Autocast.enable(DType.BF16)) {
            auto = a.matmul(b);
        }
        Variable explicit = r(r(a).matmul(r(b)));
        assertArrayEquals(explicit.data().toDoubleArray(), auto.data().toDoubleArray(), 0.0);
        assertNotEquals(java.util.Arrays.toString(a.matmul(b).data().toDoubleArray()), java.util.Arrays.toString(auto.data().toDoubleArray()),
                "autocast must change the product's precision");
        auto.sum().backward();
        Tensor autoGrad = a.grad();
        a.zeroGrad();
        explicit.sum().backward();
        assertArrayEquals(a.grad().toDoubleArray(), autoGrad.toDoubleArray(), 0.0);
    }

    @Test
    void f64AndOtherOpsAreLeftAlone() {
        Variable a = leaf(6, DType.F64, 4, 5);
        Variable b = leaf(7, DType.F64, 5, 2);
        Variable x = leaf(8, DType.F32, 4, 5);
        try (var s = Autocast.enable(DType.F16)) {
            assertArrayEquals(a.data().matmul(b.data()).toDoubleArray(), a.matmul(b).data().toDoubleArray(), 0.0);
            Variable soft = x.softmax(-1);
            assertEquals(DType.F32, soft.dtype());
            assertArrayEquals(x.data().softmax(-1).toDoubleArray(), soft.data().toDoubleArray(), 0.0);
            assertSame(a, Autocast.apply(in -> in[0], a), "F64 is not eligible");
            assertSame(x, Autocast.apply(in -> in[0], x, a), "one F64 input leaves the op alone: x is not rounded");
        }
        assertSame(x, Autocast.apply(in -> in[0], x), "off: the op runs as is");
    }

    @Test
    void scopesNestAndRestore() {
        assertNull(Autocast.dtype());
        try (var outer = Autocast.enable(DType.BF16)) {
            try (var inner = Autocast.disable()) {
                assertNull(Autocast.dtype());
                try (var f16 = Autocast.enable(DType.F16)) {
                    assertEquals(DType.F16, Autocast.dtype());
                }
                assertNull(Autocast.dtype());
            }
            assertEquals(DType.BF16, Autocast.dtype());
        }
        assertNull(Autocast.dtype());
        var e = assertThrows(IllegalArgumentException.class, () -> Autocast.enable(DType.F32));
        assertTrue(e.getMessage().startsWith("Autocast:"), e.getMessage());
    }

    @Test
    void roundingIsRecordedSoTheGradientFlowsBackInF32() {
        Variable x = leaf(9, DType.F32, 5);
        Variable y;
        try (var s = Autocast.enable(DType.BF16)) {
            y = Autocast.apply(in -> {
                assertNull(Autocast.dtype(), "the op itself runs with autocast off");
                return in[0].mul(3);
            }, x, null);
        }
        assertEquals(DType.F32, y.dtype());
        assertArrayEquals(r(r(x).mul(3)).data().toDoubleArray(), y.data().toDoubleArray(), 0.0);
        y.sum().backward();
        assertArrayEquals(new double[] {3, 3, 3, 3, 3}, x.grad().toDoubleArray(), 0.0);
    }
}
