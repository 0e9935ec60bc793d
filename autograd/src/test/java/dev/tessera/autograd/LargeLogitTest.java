package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The softmax family at logits so large that x − (max + log Σ exp(x − max)) rounds the log term
 * away; forward and backward must use (x − max) − log Σ… instead. F32, expected values in double.
 */
class LargeLogitTest {
    static final double P0 = 1 / (1 + Math.exp(-1)); // softmax([1e4, 1e4 − 1])[0]

    static Variable leaf(double... values) {
        return Variable.of(Tensor.of(values).to(DType.F32), true);
    }

    @Test
    void logsumexpGradientIsTheSoftmax() {
        Variable x = leaf(3e38, 3e38, 0);
        x.logsumexp(false, 0).backward();
        assertArrayEquals(new double[] {0.5, 0.5, 0}, x.grad().toDoubleArray(), 1e-7);
        Variable y = leaf(1e4, 1e4 - 1);
        y.logsumexp(false, 0).backward();
        assertArrayEquals(new double[] {P0, 1 - P0}, y.grad().toDoubleArray(), 1e-7);
        Variable z = Variable.of(Tensor.of(new double[] {1e4, 1e4 - 1, 1e4 - 1, 1e4}).reshape(2, 2).to(DType.F32), true);
        z.logsumexp(false).backward(); // over both dims
        assertArrayEquals(new double[] {P0 / 2, (1 - P0) / 2, (1 - P0) / 2, P0 / 2}, z.grad().toDoubleArray(), 1e-7);
    }

    @Test
    void softmaxForwardAndBackward() {
        Variable z = leaf(3e38, 3e38, 0);
        Variable p = z.softmax(0);
        assertArrayEquals(new double[] {0.5, 0.5, 0}, p.data().toDoubleArray(), 1e-7);
        p.backward(Tensor.of(new double[] {1, 0, 0}).to(DType.F32)); // p_0·(onehot_0 − p)
        assertArrayEquals(new double[] {0.25, -0.25, 0}, z.grad().toDoubleArray(), 1e-7);
    }

    /** The forward is Tensor.logSoftmax (tensor's (x − max) − lse fix); the backward g − exp(y)·Σg then follows. */
    @Test
    void logSoftmaxForwardAndBackward() {
        Variable x = leaf(1e4, 1e4 - 1);
        Variable logp = x.logSoftmax(0);
        double lse = Math.log1p(Math.exp(-1)); // log Σ exp(x − max)
        assertArrayEquals(new double[] {-lse, -1 - lse}, logp.data().toDoubleArray(), 1e-6);
        logp.backward(Tensor.of(new double[] {0, 1}).to(DType.F32)); // d(log p_1) = onehot_1 − p
        assertArrayEquals(new double[] {-P0, P0}, x.grad().toDoubleArray(), 1e-6);
        Variable y = leaf(3e38, 3e38, 0);
        Variable logq = y.logSoftmax(0);
        assertArrayEquals(new double[] {-Math.log(2), -Math.log(2)}, java.util.Arrays.copyOf(logq.data().toDoubleArray(), 2), 1e-6);
        logq.backward(Tensor.of(new double[] {1, 0, 0}).to(DType.F32));
        assertArrayEquals(new double[] {0.5, -0.5, 0}, y.grad().toDoubleArray(), 1e-6);
    }
}
