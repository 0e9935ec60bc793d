package dev.tessera.bench;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Parallel;
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
 * Elementwise and reduction throughput on 16M contiguous floats, beside a plain copy of the same
 * size: the target is add/mul/exp at ≥ 0.5× of copy bandwidth. Bytes moved per op: copy, exp
 * 2·4·n (read + write), add/mul 3·4·n, sum 4·n. The in-place forms write into preallocated
 * memory; {@code addOutOfPlace} also pays for a fresh 64 MB result.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-XX:InitialRAMPercentage=50",
        "-XX:MaxRAMPercentage=50", "-Xmn1g"})
public class ElementwiseBenchmark {
    @Param({"16777216"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    private Tensor a;
    private Tensor b;
    private Tensor out;

    @Setup
    public void setup() {
        Parallel.setThreads(threads);
        Generator g = new Generator(1);
        a = Tensor.rand(g, DType.F32, n);
        b = Tensor.rand(g, DType.F32, n);
        out = Tensor.zeros(DType.F32, n);
    }

    @Benchmark
    public Tensor copy() {
        return out.copyFromInPlace(a);
    }

    @Benchmark
    public Tensor addInPlace() {
        return out.addInPlace(b);
    }

    @Benchmark
    public Tensor addOutOfPlace() {
        return a.add(b);
    }

    @Benchmark
    public Tensor mulInPlace() {
        return a.mulInPlace(b);
    }

    @Benchmark
    public Tensor expInto() {
        return a.applyInto(dev.tessera.tensor.UnaryOp.EXP, out);
    }

    @Benchmark
    public Tensor sum() {
        return a.sum();
    }
}
