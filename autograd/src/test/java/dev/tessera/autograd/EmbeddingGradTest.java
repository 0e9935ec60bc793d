package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.lang.management.ManagementFactory;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The embedding's weight gradient: each row the sum, in position order, of the output gradient's
 * rows whose id picked it (equal bit for bit to scatter_add along dim 0 with the ids expanded over
 * the embedding dim), made without that (n, dim) index.
 */
class EmbeddingGradTest {
    @Property(tries = 30)
    void weightGradientIsScatterAddOfTheRows(@ForAll @IntRange(min = 1, max = 6) int vocab, @ForAll @IntRange(min = 1, max = 9) int dim,
            @ForAll @IntRange(min = 1, max = 20) int n, @ForAll boolean f64, @ForAll long seed) {
        Generator g = new Generator(seed);
        DType dt = f64 ? DType.F64 : DType.F32;
        Variable weight = Variable.of(Tensor.randn(g, dt, vocab, dim), true);
        Tensor ids = Tensor.randint(g, 0, vocab, DType.I64, 2, n);
        Tensor grad = Tensor.randn(g, dt, 2, n, dim);
        weight.embedding(ids).backward(grad);
        Tensor rows = ids.reshape(2 * n, 1).expand(2 * n, dim).contiguous();
        Tensor expected = Tensor.zeros(dt, vocab, dim).scatterAdd(0, rows, grad.reshape(2 * n, dim));
        assertArrayEquals(expected.toDoubleArray(), weight.grad().toDoubleArray(), 0.0);
    }

    @Test
    void backwardMakesNoExpandedIndex() {
        Generator g = new Generator(15);
        Variable weight = Variable.of(Tensor.randn(g, DType.F32, 16, 64), true);
        Tensor ids = Tensor.randint(g, 0, 16, DType.I64, 1024);
        Tensor grad = Tensor.randn(g, DType.F32, 1024, 64);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 50; i++) {
            weight.zeroGrad();
            long before = threads.getThreadAllocatedBytes(id);
            weight.embedding(ids).backward(grad);
            least = Math.min(least, threads.getThreadAllocatedBytes(id) - before);
        }
        long output = 1024 * 64 * Float.BYTES; // the forward's rows; the gradient is 16 x 64
        assertTrue(least < output + (64 << 10), "embedding forward+backward allocated " + least + " bytes for a " + output
                + "-byte output");
    }
}
