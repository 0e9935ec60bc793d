package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Results are bitwise identical for any thread count (fixed chunks, partials combined in order). */
class DeterminismTest {
    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(Runtime.getRuntime().availableProcessors());
    }

    static float[] withThreads(int threads, Supplier<Tensor> op) {
        Parallel.setThreads(threads);
        return op.get().toFloatArray();
    }

    static void assertSameForOneAndTwoThreads(Supplier<Tensor> op) {
        float[] one = withThreads(1, op);
        float[] two = withThreads(2, op);
        float[] three = withThreads(3, op);
        assertArrayEquals(one, two);
        assertArrayEquals(one, three);
    }

    @Test
    void sumOfLongRowAndOfManyRows() {
        Tensor x = Tensor.randn(new Generator(3), DType.F32, 1 << 21).mul(1000);
        assertSameForOneAndTwoThreads(() -> x.sum());
        Tensor m = x.reshape(512, 4096);
        assertSameForOneAndTwoThreads(() -> m.sum(false, 1));
        assertSameForOneAndTwoThreads(() -> m.sum(false, 0));
        assertSameForOneAndTwoThreads(() -> m.mean(true, 0, 1));
    }

    @Test
    void softmaxAndElementwise() {
        Tensor x = Tensor.randn(new Generator(4), DType.F32, 300, 1000).mul(5);
        assertSameForOneAndTwoThreads(() -> x.softmax(-1));
        assertSameForOneAndTwoThreads(() -> x.logSoftmax(0));
        assertSameForOneAndTwoThreads(() -> x.exp().add(x.mT().contiguous().mT()));
    }

    @Test
    void gemm() {
        Tensor a = Tensor.randn(new Generator(5), DType.F32, 300, 311);
        Tensor b = Tensor.randn(new Generator(6), DType.F32, 311, 257);
        assertSameForOneAndTwoThreads(() -> a.matmul(b));
        assertSameForOneAndTwoThreads(() -> b.mT().matmul(a.mT()));
        Tensor batched = Tensor.randn(new Generator(7), DType.F32, 16, 64, 64);
        assertSameForOneAndTwoThreads(() -> batched.matmul(batched.mT()));
        // long k, small C (a weight gradient): the whole-depth parallel mode against the serial loop
        Tensor rows = Tensor.randn(new Generator(8), DType.F32, 2000, 96);
        Tensor grads = Tensor.randn(new Generator(9), DType.F32, 2000, 80);
        assertSameForOneAndTwoThreads(() -> rows.mT().matmul(grads));
        assertSameForOneAndTwoThreads(() -> rows.to(DType.F64).mT().matmul(grads.to(DType.F64)));
    }
}
