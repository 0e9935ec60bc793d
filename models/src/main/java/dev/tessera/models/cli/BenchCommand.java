package dev.tessera.models.cli;

import dev.tessera.tensor.GemmTiming;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera bench ...}: quick throughput figures (JMH in bench/ gives the careful ones). */
@Command(name = "bench", description = "Quick benchmarks.", subcommands = {BenchCommand.Gemm.class})
final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "gemm", description = "Square GEMM throughput; one line per size ending in gflops=<number>.")
    static final class Gemm implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--n", split = ",", description = "Matrix sizes (default: 256,512,1024,2048).")
        int[] sizes = {256, 512, 1024, 2048};

        @Option(names = "--threads", description = "Worker threads (default: all cores).")
        int threads = Runtime.getRuntime().availableProcessors();

        @Option(names = "--dtype", description = "f32, f64, bf16 or f16 (default: f32).")
        String dtype = "f32";

        @Option(names = "--layout", description = "NN, NT, TN or TT (default: NN).")
        String layout = "NN";

        @Override
        public Integer call() {
            String dt = dtype.toLowerCase(Locale.ROOT);
            if (!dt.matches("f32|f64|bf16|f16")) {
                throw new IllegalArgumentException("bench gemm: --dtype must be f32, f64, bf16 or f16, got " + dtype);
            }
            String lay = layout.toUpperCase(Locale.ROOT);
            if (!lay.matches("[NT][NT]")) {
                throw new IllegalArgumentException("bench gemm: --layout must be NN, NT, TN or TT, got " + layout);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("bench gemm: --threads must be >= 1, got " + threads);
            }
            PrintWriter out = spec.commandLine().getOut();
            for (int n : sizes) {
                if (n < 1) {
                    throw new IllegalArgumentException("bench gemm: --n must be positive, got " + n);
                }
                double gflops = GemmTiming.gflops(n, threads, dt, lay);
                out.printf(Locale.ROOT, "gemm %s %s n=%d threads=%d gflops=%.1f%n", dt, lay, n, threads, gflops);
                out.flush();
            }
            return 0;
        }
    }
}
