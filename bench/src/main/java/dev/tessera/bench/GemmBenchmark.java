package dev.tessera.bench;

import dev.tessera.tensor.Gemm;
import dev.tessera.tensor.Parallel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * sgemm throughput: square n x n x n products, operands row-major ("N") or transposed views ("T",
 * strides swapped), on 1 or 2 pool threads.
 *
 * <p>The primary score is operations per second; one operation is {@code 2 n^3} flops, so
 * {@code GFLOP/s = score * 2 n^3 / 1e9} (n=1024: score * 2.147; n=2048: score * 17.18). The
 * auxiliary counter {@code gflop} (flops of the completed calls / 1e9, reported as a rate per
 * second) gives GFLOP/s directly.
 *
 * <p>Run: {@code java --add-modules jdk.incubator.vector -jar bench/target/benchmarks.jar GemmBenchmark}
 * (add {@code -p n=1024 -p threads=1} to narrow the grid).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    @Param({"256", "512", "1024", "2048"})
    public int n;

    @Param({"1", "2"})
    public int threads;

    @Param({"NN", "NT", "TN"})
    public String layout;

    private float[] a;
    private float[] b;
    private float[] c;
    private int ars;
    private int acs;
    private int brs;
    private int bcs;
    private int savedThreads;

    /** GFLOP/s as a JMH auxiliary counter. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom rnd = new SplittableRandom(42);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        boolean ta = layout.charAt(0) == 'T';
        boolean tb = layout.charAt(1) == 'T';
        ars = ta ? 1 : n;
        acs = ta ? n : 1;
        brs = tb ? 1 : n;
        bcs = tb ? n : 1;
        savedThreads = Parallel.threads();
        Parallel.setThreads(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        Parallel.setThreads(savedThreads);
    }

    @Benchmark
    public float[] sgemm(Flops flops) {
        Gemm.sgemm(n, n, n, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, false);
        flops.gflop += 2.0 * n * n * n / 1e9;
        return c;
    }
}
