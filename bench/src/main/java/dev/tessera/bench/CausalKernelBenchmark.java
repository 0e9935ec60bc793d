package dev.tessera.bench;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionMask;
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
 * Cost growth of a causal attention kernel against softmax attention in the same run: forward
 * without grad of one (B = 1, H = 4, D = 64) sequence at T = 1k, 4k, 16k. Each subclass names its
 * kernels by a {@code kind} parameter ("softmax" among them) and builds them in {@link #kernel}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:MaxRAMPercentage=70"})
public abstract class CausalKernelBenchmark {
    @Param({"1024", "4096", "16384"})
    public int t;

    private Variable q;
    private Variable k;
    private Variable v;
    private AttentionKernel kernel;

    /** The kernel this run measures (the subclass's {@code kind} parameter). */
    protected abstract AttentionKernel kernel();

    @Setup
    public void setup() {
        Generator g = new Generator(1);
        q = Variable.constant(Tensor.randn(g, DType.F32, 1, 4, t, 64));
        k = Variable.constant(Tensor.randn(g, DType.F32, 1, 4, t, 64));
        v = Variable.constant(Tensor.randn(g, DType.F32, 1, 4, t, 64));
        kernel = kernel();
    }

    @Benchmark
    public Variable causalForward() {
        try (var s = GradMode.noGrad()) {
            return kernel.attend(q, k, v, AttentionMask.causalOnly());
        }
    }
}
