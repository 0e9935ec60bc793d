package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Kernels that sit on a training step's hot path allocate their result and no per-row or per-call
 * temporaries proportional to the data (a training step's allocation sets the young generation it
 * needs, issue 15). Each op is warmed until compiled, then the least allocation over a few calls on
 * this thread is compared with the bytes its result must take. The shapes are small enough that
 * every kernel runs inline on the calling thread. A species forced wider than the machine's (512
 * bits on AVX2) is emulated by the JDK, which boxes every vector, so the checks need a native width.
 */
class AllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Headers, shape and stride arrays, lambdas: small against the 64 KB results below. */
    private static final long SLACK = 16 << 10;

    /** The least bytes one call of {@code op} allocated on this thread, after warming it up. */
    static long leastAllocation(Supplier<Tensor> op) {
        assumeTrue(Simd.F32.vectorBitSize() <= jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                "species " + Simd.F32 + " is emulated on this machine");
        for (int i = 0; i < 3000; i++) {
            op.get();
        }
        long least = Long.MAX_VALUE;
        long id = Thread.currentThread().threadId();
        for (int i = 0; i < 20; i++) {
            long before = THREADS.getThreadAllocatedBytes(id);
            op.get();
            least = Math.min(least, THREADS.getThreadAllocatedBytes(id) - before);
        }
        return least;
    }

    @Test
    void maskedSoftmaxAllocatesOnlyItsOutput() {
        Generator g = new Generator(15);
        Tensor x = Tensor.randn(g, DType.F32, 1, 1, 64, 256);
        Tensor allowed = Tensor.ones(DType.BOOL, 64, 256);
        long out = 64 * 256 * Float.BYTES;
        long bytes = leastAllocation(() -> x.maskedSoftmax(allowed, 0.125));
        assertTrue(bytes < out + SLACK, "masked_softmax allocated " + bytes + " bytes for a " + out + "-byte result");
    }

    @Test
    void swiGluAllocatesOnlyItsOutputs() {
        Generator g = new Generator(16);
        Tensor a = Tensor.randn(g, DType.F32, 64, 255).mul(4); // 255: a partial last vector at every width
        Tensor b = Tensor.randn(g, DType.F32, 64, 255);
        Tensor grad = Tensor.randn(g, DType.F32, 64, 255);
        long out = 64 * 255 * Float.BYTES;
        long forward = leastAllocation(() -> SwiGlu.forward(a, b));
        assertTrue(forward < out + SLACK, "swiglu allocated " + forward + " bytes for a " + out + "-byte result");
        long backward = leastAllocation(() -> SwiGlu.backward(a, b, grad)[0]);
        assertTrue(backward < 2 * out + SLACK, "swiglu_backward allocated " + backward + " bytes for " + 2 * out + " bytes of results");
    }

    @Test
    void matmulIntoAllocatesNoProduct() {
        Generator g = new Generator(17);
        Tensor a = Tensor.randn(g, DType.F32, 2, 64, 32);
        Tensor b = Tensor.randn(g, DType.F32, 2, 32, 128);
        Tensor out = Tensor.zeros(DType.F32, 64, 2, 128).transpose(0, 1); // (2, 64, 128), batches interleaved in memory
        long bytes = leastAllocation(() -> a.matmulInto(b, out));
        assertTrue(bytes < SLACK, "matmul_into allocated " + bytes + " bytes");
    }
}
