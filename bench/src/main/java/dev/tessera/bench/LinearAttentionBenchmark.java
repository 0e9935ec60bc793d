package dev.tessera.bench;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.DeltaNetAttention;
import dev.tessera.nn.attention.LinearAttention;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * B3's linear-time claim: causal attention forward (no grad) for one head of size 16 at T = 1k, 4k
 * and 16k, elu+1 linear attention (prefix sums) and DeltaNet (chunkwise delta rule) against softmax
 * attention in the same run. The time ratio per 4× T should be ≈ 4 for the linear kernels and
 * ≈ 16 for softmax.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=50"})
public class LinearAttentionBenchmark {
    private static final int HEAD = 16;

    @Param({"1024", "4096", "16384"})
    public int t;

    @Param({"softmax", "linear", "deltanet"})
    public String kind;

    private AttentionKernel kernel;
    private Variable q;
    private Variable k;
    private Variable v;

    @Setup
    public void setup() {
        Generator g = new Generator(1);
        q = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
        k = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
        v = Variable.constant(Tensor.randn(g, DType.F32, 1, 1, t, HEAD));
        kernel = switch (kind) {
            case "softmax" -> new SoftmaxAttention(Double.NaN, 0, 0, null);
            case "linear" -> new LinearAttention();
            case "deltanet" -> new DeltaNetAttention(1, HEAD);
            default -> throw new IllegalArgumentException("LinearAttentionBenchmark: unknown kind " + kind);
        };
    }

    @Benchmark
    public Tensor causalForward() {
        try (var noGrad = GradMode.noGrad()) {
            return kernel.attend(q, k, v, AttentionMask.causalOnly()).data();
        }
    }
}
