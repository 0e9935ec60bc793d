package dev.tessera.bench;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.CosFormerAttention;
import dev.tessera.nn.attention.NystromAttention;
import dev.tessera.nn.attention.SkyformerAttention;
import dev.tessera.nn.attention.SoftAttention;
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
 * B17/B21's linear-time claim: bidirectional attention forward (no mask, no grad) for one head of
 * size 16 at T = 1k, 4k and 16k: Nyström (64 landmarks), Skyformer (64), SOFT (49) and cosFormer
 * (M = 16k) against softmax attention in the same run. The time ratio per 4× T should be ≈ 4 for
 * the linear kernels and ≈ 16 for softmax. (Sinkformer is quadratic like softmax and not measured.)
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=50"})
public class LandmarkAttentionBenchmark {
    private static final int HEAD = 16;

    @Param({"1024", "4096", "16384"})
    public int t;

    @Param({"softmax", "nystrom", "skyformer", "soft", "cosformer"})
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
            case "nystrom" -> new NystromAttention(NystromAttention.Options.DEFAULT, 1, DType.F32, g);
            case "skyformer" -> new SkyformerAttention(SkyformerAttention.Options.DEFAULT, g);
            case "soft" -> new SoftAttention(SoftAttention.Options.DEFAULT);
            case "cosformer" -> new CosFormerAttention(new CosFormerAttention.Options(16384));
            default -> throw new IllegalArgumentException("LandmarkAttentionBenchmark: unknown kind " + kind);
        };
    }

    @Benchmark
    public Tensor bidirectionalForward() {
        try (var noGrad = GradMode.noGrad()) {
            return kernel.attend(q, k, v, AttentionMask.NONE).data();
        }
    }
}
