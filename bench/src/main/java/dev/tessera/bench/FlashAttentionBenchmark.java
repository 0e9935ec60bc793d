package dev.tessera.bench;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.FlashAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Training's causal attention, forward and backward, at the tiny preset's shape (B 8, H 4, T 256,
 * D 64) and the small preset's (B 8, H 6, T 512, D 64): the fused F32 kernel ({@code flash},
 * {@link FlashAttention}) against {@code causal_block} (128-row query blocks of batched GEMMs, which
 * keeps each block's probabilities from forward to backward). At the end of a trial it prints the
 * peak scratch each path holds beyond q, k, v, the output and the gradients: flash, the logsumexps
 * plus one (batch, head) task's packed Kᵀ/Vᵀ and blocks per thread; causal_block, the saved
 * probabilities Σ_r B·H·rows_r·r₁ floats (the matmul temporaries of the same size come on top).
 * {@code ./tessera jmh FlashAttentionBenchmark -p shape=tiny}; add {@code -prof gc} for bytes
 * allocated per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=50"})
public class FlashAttentionBenchmark {
    @Param({"tiny", "small"})
    public String shape;

    @Param({"flash", "causal_block"})
    public String path;

    private SoftmaxAttention attention;
    private Tensor q;
    private Tensor k;
    private Tensor v;
    private Tensor grad;
    private int b;
    private int h;
    private int t;
    private int d;

    @Setup
    public void setup() {
        b = 8;
        h = shape.equals("tiny") ? 4 : 6;
        t = shape.equals("tiny") ? 256 : 512;
        d = 64;
        Generator g = new Generator(1);
        q = Tensor.randn(g, DType.F32, b, h, t, d);
        k = Tensor.randn(g, DType.F32, b, h, t, d);
        v = Tensor.randn(g, DType.F32, b, h, t, d);
        grad = Tensor.randn(g, DType.F32, b, h, t, d);
        attention = new SoftmaxAttention().withFlash(path.equals("flash"));
    }

    @Benchmark
    public Tensor forwardBackward() {
        Variable qv = Variable.of(q, true);
        Variable kv = Variable.of(k, true);
        Variable vv = Variable.of(v, true);
        Variable out = attention.attend(qv, kv, vv, AttentionMask.causalOnly());
        if (!out.opName().equals(path.equals("flash") ? "flash_attention" : "causal_block_attention")) {
            throw new IllegalStateException("FlashAttentionBenchmark: path " + path + " ran " + out.opName());
        }
        out.backward(grad);
        return qv.grad();
    }

    @TearDown(Level.Trial)
    public void reportScratch() {
        long floats;
        if (path.equals("flash")) {
            var p = new FlashAttention.Problem(b, h, t, t, d, d, 0.125f, true, 0, null);
            floats = (long) b * h * t + FlashAttention.scratchFloatsPerTask(p) * Math.min(Parallel.threads(), b * h);
        } else {
            floats = 0;
            int block = Integer.getInteger("tessera.attention.causalBlock", 128);
            for (int r0 = 0; r0 < t; r0 += block) {
                int r1 = Math.min(t, r0 + block);
                floats += (long) b * h * (r1 - r0) * r1;
            }
        }
        System.out.printf("scratch %s %s: %.1f MiB%n", shape, path, floats * 4 / 1048576.0);
    }
}
