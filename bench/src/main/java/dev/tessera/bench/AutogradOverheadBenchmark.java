package dev.tessera.bench;

import dev.tessera.autograd.Variable;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-op cost of recording and back-propagating on tiny (4-element) tensors, where the math is
 * negligible and what remains is graph bookkeeping: a chain of {@link #OPS} ops forward plus
 * backward. Divide the reported time by OPS for the cost per op (target: under 2 µs). The
 * {@code forwardOnlyNoGrad} baseline runs the same tensor ops without recording.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:InitialRAMPercentage=50",
        "-XX:MaxRAMPercentage=50", "-Xmn2g"})
public class AutogradOverheadBenchmark {
    public static final int OPS = 32;
    private Variable x;
    private Tensor raw;

    @Setup
    public void setup() {
        raw = Tensor.randn(new Generator(1), DType.F32, 4);
        x = Variable.of(raw, true);
    }

    @Benchmark
    public Variable forwardBackward() {
        Variable h = x;
        for (int i = 0; i < OPS / 2 - 1; i++) {
            h = h.mul(x).tanh();
        }
        Variable loss = h.sum(); // OPS - 1 elementwise ops + sum = OPS ops
        loss.backward();
        x.zeroGrad();
        return loss;
    }

    @Benchmark
    public Tensor forwardOnlyNoGrad() {
        Tensor h = raw;
        for (int i = 0; i < OPS / 2 - 1; i++) {
            h = h.mul(raw).tanh();
        }
        return h.sum();
    }
}
