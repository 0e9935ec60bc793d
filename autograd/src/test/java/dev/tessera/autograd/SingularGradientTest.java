package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Gradients at the points where the textbook formula divides by zero or takes a log of zero or
 * less; the expected values are PyTorch's (derivatives.yaml and FunctionsManual.cpp), not limits
 * taken here.
 */
class SingularGradientTest {

    static Variable leaf(DType dtype, double... values) {
        return Variable.of(Tensor.of(values).to(dtype), true);
    }

    @Test
    void powWithZeroScalarExponentHasZeroGradientEvenAtZero() {
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable x = leaf(dtype, 0, 2, -1.5);
            x.pow(0).sum().backward();
            assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray(), dtype.toString());
        }
    }

    @Test
    void powWithZeroTensorExponentHasZeroBaseGradientEvenAtZero() {
        Variable x = leaf(DType.F64, 0, 0, 3, 0);
        Variable y = leaf(DType.F64, 0, 2, 0, 1);
        x.pow(y).sum().backward();
        // d/dx x^y = y·x^(y−1), taken as 0 where y = 0 (torch masks exponent == 0)
        assertArrayEquals(new double[] {0, 0, 0, 1}, x.grad().toDoubleArray());
    }
}
