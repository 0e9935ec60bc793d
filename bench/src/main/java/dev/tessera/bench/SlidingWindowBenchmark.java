package dev.tessera.bench;

import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.nn.attention.SoftmaxAttention;
import org.openjdk.jmh.annotations.Param;

/**
 * B5's cost growth: causal forward attention of one (B = 1, H = 4, D = 64) sequence at T = 1k, 4k,
 * 16k, sliding window W = 256 against softmax attention in the same run. Per 4× T the time ratio
 * should be about 4 for the window (O(T·W)) and about 16 for softmax (O(T²)).
 * {@code java -jar bench/target/benchmarks.jar SlidingWindowBenchmark}
 */
public class SlidingWindowBenchmark extends CausalKernelBenchmark {
    @Param({"sliding_window", "softmax"})
    public String kind;

    @Override
    protected AttentionKernel kernel() {
        return kind.equals("softmax") ? new SoftmaxAttention() : new SlidingWindowAttention(256);
    }
}
