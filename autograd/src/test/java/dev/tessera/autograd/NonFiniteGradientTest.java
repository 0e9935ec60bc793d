package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Gradients where an input is NaN or ±∞, a sum overflows, values tie, or the input is 0-d. The
 * expected values are what PyTorch's closed forms give (derivatives.yaml and FunctionsManual.cpp:
 * threshold_backward, maximum/minimum, prod_backward, var_backward, _log_softmax_backward_data),
 * worked out by hand here; the arrays compare bit for bit, so the sign of a zero counts.
 */
class NonFiniteGradientTest {
    static final double NAN = Double.NaN;
    static final double INF = Double.POSITIVE_INFINITY;

    static Variable leaf(double... values) {
        return Variable.of(Tensor.of(values), true);
    }

    static Variable rows(int cols, double... values) {
        return Variable.of(Tensor.of(values).reshape(values.length / cols, cols), true);
    }

    /** threshold_backward(grad, result, 0): 0 where relu(x) ≤ 0, else grad; NaN ≤ 0 is false. */
    @Test
    void reluPassesTheGradientThroughNaNAndMasksWithPositiveZero() {
        Variable x = leaf(NAN, -1, 0, -0.0, 2, INF, -INF);
        x.relu().backward(Tensor.of(new double[] {0.5, -0.25, 0.75, 1, -2, 3, -4}));
        assertArrayEquals(new double[] {0.5, 0, 0, 0, -2, 3, 0}, x.grad().toDoubleArray());
    }

    /**
     * maximum: a gets where(a == b, g/2, g) masked to 0 where a &lt; b, b the same masked where
     * a &gt; b. A NaN on either side fails every comparison, so both inputs get the whole g.
     */
    @Test
    void maximumAndMinimumGiveBothInputsTheGradientAtNaNAndSplitTies() {
        double[] a = {NAN, 1, NAN, 2, 3, INF, -0.0, -1};
        double[] b = {1, NAN, NAN, 2, 1, INF, 0.0, 5};
        Tensor g = Tensor.of(new double[] {0.5, -1, 2, 3, -4, 6, -8, 1.5});
        Variable x = leaf(a);
        Variable y = leaf(b);
        x.maximum(y).backward(g);
        assertArrayEquals(new double[] {0.5, -1, 2, 1.5, -4, 3, -4, 0}, x.grad().toDoubleArray(), "maximum da");
        assertArrayEquals(new double[] {0.5, -1, 2, 1.5, 0, 3, -4, 1.5}, y.grad().toDoubleArray(), "maximum db");
        Variable u = leaf(a);
        Variable v = leaf(b);
        u.minimum(v).backward(g);
        assertArrayEquals(new double[] {0.5, -1, 2, 1.5, 0, 3, -4, 1.5}, u.grad().toDoubleArray(), "minimum da");
        assertArrayEquals(new double[] {0.5, -1, 2, 1.5, -4, 3, -4, 0}, v.grad().toDoubleArray(), "minimum db");
    }

    /**
     * prod_backward: with a zero anywhere in the input, every element gets the product of the
     * others as (exclusive cumprod from the front)·(exclusive cumprod from the back), so an inf
     * beside finite values gives inf and a lone NaN beside a zero gets 0.
     */
    @Test
    void prodWithAZeroInTheInputTakesTheProductOfTheOthersEverywhere() {
        Variable x = rows(4, INF, -INF, 1, 0, INF, INF, 2, 2, 0, NAN, 1, 1);
        x.prod(false, 1).backward(Tensor.of(new double[] {-1, 1, 2}));
        assertArrayEquals(new double[] {NAN, NAN, NAN, INF, INF, INF, INF, INF, NAN, 0, NAN, NAN}, x.grad().toDoubleArray());
        Variable f = Variable.of(Tensor.of(new double[] {2, 0, 3, 0.5, 4, -1}).reshape(3, 2).to(DType.F32), true);
        f.prod(true, 0, 1).backward(Tensor.of(new double[] {0.5}).reshape(1, 1).to(DType.F32)); // several dims act as one
        assertEquals(DType.F32, f.grad().dtype());
        assertArrayEquals(new double[] {-0.0, -6, -0.0, -0.0, -0.0, 0}, f.grad().toDoubleArray());
    }

    /** Without any zero in the input prod_backward is grad·(result / input), NaN where ±∞/±∞. */
    @Test
    void prodWithoutZerosDividesTheResultByEachElement() {
        Variable x = rows(4, -INF, 1, 2, 3, INF, INF, 2, 2);
        x.prod(false, 1).backward(Tensor.of(new double[] {1, 1}));
        assertArrayEquals(new double[] {NAN, -INF, -INF, -INF, NAN, NAN, INF, INF}, x.grad().toDoubleArray());
        Variable y = rows(2, 1e308, 1e308, 3, 4);
        y.prod(false, 1).backward(Tensor.of(new double[] {-1, 1}));
        assertArrayEquals(new double[] {-INF, -INF, 4, 3}, y.grad().toDoubleArray());
    }

    /**
     * logsumexp's gradient is softmax(x) over the reduced dims, [½, ½] for two tied 1e308 entries: a
     * deliberate departure from torch, whose exp(x − logsumexp(x)) gives 1 each there because
     * 1e308 + ln 2 rounds to 1e308 (the OpInfo fixture's reduce/logsumexp/F64/edge-overflow says so).
     */
    @Test
    void logsumexpGradientIsTheExactSoftmaxNextToOverflow() {
        Variable x = rows(4, 1e308, 1e308, -1, 5e-324, 1e200, 1e200, 1e-200, 1);
        x.logsumexp(false, 1).backward(Tensor.of(new double[] {1, -2}));
        assertArrayEquals(new double[] {0.5, 0.5, 0, 0, -1, -1, -0.0, -0.0}, x.grad().toDoubleArray());
    }

    /**
     * torch.prod(x) without a dim returns zeros when two or more elements are 0 (its backward runs
     * without grad mode); over a dim the same input gets the product of the others, 0·∞ = NaN.
     */
    @Test
    void prodOfEverythingWithTwoZerosHasZeroGradient() {
        Variable x = leaf(0, 0, INF);
        x.prod(false).backward(Tensor.scalar(NAN, DType.F64));
        assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray());
        Variable y = leaf(0, 0, INF);
        y.prod(false, 0).backward(Tensor.scalar(1, DType.F64));
        assertArrayEquals(new double[] {NAN, NAN, 0}, y.grad().toDoubleArray());
    }

    /**
     * var_backward is (2 / (N − correction))·grad·(x − mean): an infinite mean (an inf in the
     * slice, or a sum that overflows) gives ±∞ at the finite elements and NaN at the infinite
     * ones, where composing mean, square and sum gives NaN everywhere.
     */
    @Test
    void varGradientFollowsTheClosedFormThroughInfinitiesAndOverflow() {
        Variable x = rows(4, INF, INF, 2, 2, -INF, 1, 2, 3, 1e308, 1e308, -1, 5e-324);
        x.var(0, false, 1).backward(Tensor.of(new double[] {1, 1, -1}));
        assertArrayEquals(new double[] {NAN, NAN, -INF, -INF, NAN, INF, INF, INF, INF, INF, INF, INF}, x.grad().toDoubleArray());
        Variable y = rows(2, 1, 3, 2, 2);
        y.var(1, true, 1).backward(Tensor.of(new double[] {1, 1}).reshape(2, 1));
        assertArrayEquals(new double[] {-2, 2, 0, 0}, y.grad().toDoubleArray());
    }

    /** With no dim and N ≤ correction torch gives grad·(NaN where x = mean, else ∞). */
    @Test
    void varOfEverythingWithNoDegreesOfFreedomIsInfiniteOrNaN() {
        Variable x = leaf(1, 2);
        x.var(2, false).backward(Tensor.scalar(-1, DType.F64));
        assertArrayEquals(new double[] {-INF, -INF}, x.grad().toDoubleArray());
        Variable y = leaf(3);
        y.var(1, false).backward();
        assertArrayEquals(new double[] {NAN}, y.grad().toDoubleArray());
    }

    /** Dim 0 or −1 of a 0-d tensor is the tensor itself: log_softmax is 0 and its gradient g − g = 0. */
    @Test
    void logSoftmaxSoftmaxAndCumsumOfAZeroDimTensor() {
        for (int dim : new int[] {0, -1}) {
            Variable x = Variable.of(Tensor.scalar(2.5, DType.F64), true);
            Variable y = x.logSoftmax(dim);
            assertEquals(0, y.item());
            y.backward(Tensor.scalar(1.5, DType.F64));
            assertEquals(0, x.grad().item());
            Variable s = Variable.of(Tensor.scalar(2.5, DType.F64), true);
            s.softmax(dim).backward(Tensor.scalar(1.5, DType.F64));
            assertEquals(0, s.grad().item());
            Variable c = Variable.of(Tensor.scalar(2.5, DType.F64), true);
            c.cumsum(dim).backward(Tensor.scalar(1.5, DType.F64));
            assertEquals(1.5, c.grad().item());
        }
    }
}
