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

    static final double[] NORM_ORDERS = {2, 0.5, 1, 1.5, 3, Double.POSITIVE_INFINITY};

    @Test
    void normOfAZeroVectorHasTheZeroSubgradient() {
        for (double p : NORM_ORDERS) {
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                Variable x = leaf(dtype, 0, 0, 0);
                x.norm(p, false).backward();
                assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray(), "p = " + p + ", " + dtype);
            }
        }
    }

    @Test
    void normOverADimGivesAZeroRowZeroAndTheOtherRowsTheirGradient() {
        Tensor rows = Tensor.of(new double[] {0, 0, 0, 0.5, -1.25, 2}).reshape(2, 3);
        for (double p : NORM_ORDERS) {
            for (boolean keep : new boolean[] {false, true}) {
                Variable x = Variable.of(rows.copy(), true);
                x.norm(p, keep, 1).sum().backward();
                Tensor zeroRow = x.grad().select(0, 0);
                assertArrayEquals(new double[] {0, 0, 0}, zeroRow.toDoubleArray(), "p = " + p);
                // the non-zero row's gradient against central differences
                Tensor other = rows.select(0, 1).copy();
                GradCheck.check(v -> v[0].norm(p, keep, 0), other);
                Variable y = Variable.of(other.copy(), true);
                y.norm(p, keep, 0).sum().backward();
                assertArrayEquals(y.grad().toDoubleArray(), x.grad().select(0, 1).toDoubleArray(), 1e-12, "p = " + p);
            }
        }
    }

    @Test
    void stdOfAConstantSliceHasZeroGradient() {
        Variable x = Variable.of(Tensor.of(new double[] {2, 2, 2, 1, 3, 2}).reshape(2, 3), true);
        x.std(1, false, 1).sum().backward();
        assertArrayEquals(new double[] {0, 0, 0}, x.grad().select(0, 0).toDoubleArray());
        assertArrayEquals(new double[] {-0.5, 0.5, 0}, x.grad().select(0, 1).toDoubleArray(), 1e-12);
    }

    @Test
    void cumsumGradientIsAReverseCumulativeSumWithoutCancellation() {
        Variable x = leaf(DType.F32, 0.5, -1, 2, 3);
        x.cumsum(0).backward(Tensor.of(new double[] {1e8, 1, 1, 1}).to(DType.F32));
        assertArrayEquals(new double[] {1e8, 3, 2, 1}, x.grad().toDoubleArray()); // 1e8 + 3 rounds to 1e8 in F32
        Variable y = leaf(DType.F64, 0.5, -1, 2, 3);
        y.cumsum(0).backward(Tensor.of(new double[] {1e8, 1, 1, 1}));
        assertArrayEquals(new double[] {1e8 + 3, 3, 2, 1}, y.grad().toDoubleArray());
    }

    @Test
    void cumsumGradientOnLongRowsIsCorrectlyRounded() {
        int n = 1000;
        Tensor g = Tensor.randn(new dev.tessera.tensor.Generator(7), DType.F32, 2, n);
        Variable x = Variable.of(Tensor.zeros(DType.F32, 2, n), true);
        x.cumsum(-1).backward(g);
        double[] got = x.grad().toDoubleArray();
        double[] gs = g.toDoubleArray();
        for (int r = 0; r < 2; r++) {
            double suffix = 0;
            for (int i = n - 1; i >= 0; i--) {
                suffix += gs[r * n + i];
                double err = Math.abs(got[r * n + i] - suffix);
                org.junit.jupiter.api.Assertions.assertTrue(err <= Math.ulp((float) suffix),
                        "row " + r + " index " + i + ": " + got[r * n + i] + " vs " + suffix);
            }
        }
    }

    @Test
    void powExponentGradientFollowsTorchAtNegativeAndZeroBases() {
        Variable x = leaf(DType.F64, -2, -2, 0, 0, 0, 2);
        Variable y = leaf(DType.F64, 2, 0.5, 0, 1.5, -1, 3);
        x.pow(y).sum().backward();
        // d/dy x^y = x^y·ln x: NaN for x < 0 (ln of a negative number), 0 where x = 0 and y ≥ 0,
        // x^y·ln x = ∞·(−∞) where x = 0 and y < 0
        double inf = Double.POSITIVE_INFINITY;
        assertArrayEquals(new double[] {Double.NaN, Double.NaN, 0, 0, -inf, 8 * Math.log(2)}, y.grad().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {-4, Double.NaN, 0, 0, -inf, 12}, x.grad().toDoubleArray(), 1e-12);
    }
}
