package dev.tessera.bench;

import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.DilatedAttention;
import dev.tessera.nn.attention.SoftmaxAttention;
import org.openjdk.jmh.annotations.Param;

/**
 * B7's cost growth: LongNet dilated attention (w = 64, 128, 256 with r = 1, 2, 4: blocks of L = 256)
 * against softmax attention, T = 1k, 4k, 16k. Per 4× T the time ratio should be about 4 for dilated
 * (O(T·L)) and about 16 for softmax (O(T²)). {@code java -jar bench/target/benchmarks.jar DilatedAttentionBenchmark}
 */
public class DilatedAttentionBenchmark extends CausalKernelBenchmark {
    @Param({"dilated", "softmax"})
    public String kind;

    @Override
    protected AttentionKernel kernel() {
        return kind.equals("softmax") ? new SoftmaxAttention() : new DilatedAttention(new DilatedAttention.Options("64,128,256", "1,2,4", true));
    }
}
