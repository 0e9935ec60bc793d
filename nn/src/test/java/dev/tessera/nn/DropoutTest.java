package dev.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** A14: inverted dropout — seeded masks, 1/(1−p) scaling, identity in eval and for p = 0. */
class DropoutTest {

    @Test
    void sameSeedSameMask() {
        Variable x = Variable.constant(Tensor.ones(DType.F32, 64, 32));
        double[] a = Ref.d(new Dropout(0.3, new Generator(5)).forward(x).data());
        double[] b = Ref.d(new Dropout(0.3, new Generator(5)).forward(x).data());
        double[] c = Ref.d(new Dropout(0.3, new Generator(6)).forward(x).data());
        assertArrayEquals(a, b);
        assertTrue(!java.util.Arrays.equals(a, c));
    }

    @Test
    void scalingAndKeepRate() {
        double p = 0.25;
        Variable x = Variable.constant(Tensor.ones(DType.F64, 200, 100));
        double[] y = Ref.d(new Dropout(p, new Generator(9)).forward(x).data());
        int kept = 0;
        double sum = 0;
        for (double v : y) {
            if (v != 0) {
                assertEquals(1 / (1 - p), v, 1e-12);
                kept++;
            }
            sum += v;
        }
        double rate = kept / (double) y.length;
        assertEquals(1 - p, rate, 0.01); // 4.5 standard deviations for n = 20000
        assertEquals(1, sum / y.length, 0.015);
    }

    @Test
    void gradientFollowsMask() {
        Variable x = Variable.of(Tensor.ones(DType.F64, 10, 10), true);
        Variable y = new Dropout(0.5, new Generator(2)).forward(x);
        y.sum().backward();
        assertArrayEquals(Ref.d(y.data()), Ref.d(x.grad()), 0);
    }

    @Test
    void identityInEvalAndForZero() {
        Variable x = Variable.constant(Ref.randn(1, 1, 4, 4));
        Dropout d = new Dropout(0.5, new Generator(1));
        d.eval();
        assertSame(x, d.forward(x));
        assertSame(x, new Dropout(0, null).forward(x));
        var e = assertThrows(IllegalArgumentException.class, () -> new Dropout(1, new Generator(1)));
        assertEquals("Dropout: p must be in [0, 1), got 1.0", e.getMessage());
    }
}
