package dev.tessera.models.cli;

import dev.tessera.autograd.OpProfile;
import dev.tessera.tensor.GemmTiming;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera bench ...}: quick throughput figures (JMH in bench/ gives the careful ones). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Quick benchmarks.", subcommands = {BenchCommand.Gemm.class, BenchCommand.Train.class,
        BenchCommand.Decode.class})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** No subcommand: the usage, on stderr with status 2, like {@code tessera} alone. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true, description = "Square GEMM throughput; one line per size ending in gflops=<number>.")
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

    /**
     * Bytes allocated on the Java heap so far by all threads (HotSpot), or 0 where not available: a
     * runtime image without {@code jdk.management} (a jlinked JRE) has no {@code com.sun.management}.
     */
    static long allocatedBytes() {
        try {
            return java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean hs
                    ? hs.getTotalThreadAllocatedBytes() : 0;
        } catch (NoClassDefFoundError e) {
            return 0;
        }
    }

    /** Milliseconds all collectors have spent in collections so far (pauses, and concurrent cycles where reported). */
    static long gcMillis() {
        long total = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    /** VmHWM from /proc/self/status (Linux), or -1 where it is not available. */
    static long peakRssMb() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /**
     * One full training step (forward, backward, AdamW) of a preset on fixed random tokens, timed
     * exactly as {@code ../shared/ref/torch_llama_step.py} times PyTorch: two warm-up steps, then the
     * median of {@code --steps}. {@code --warmup} adds untimed steps for the JIT: on two cores C2
     * compiles the step's kernels one after another, and some run interpreted or in C1 (where the
     * Vector API boxes every vector) for the first tens of seconds.
     */
    @Command(name = "train", mixinStandardHelpOptions = true, description = "Training-step throughput of a preset; one line ending in tokens_per_s=<number>.")
    static final class Train implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--preset", description = "tiny, small or gpt2 (default: tiny).")
        String preset = "tiny";

        @Option(names = "--threads", description = "Worker threads (default: all cores).")
        int threads = Runtime.getRuntime().availableProcessors();

        @Option(names = "--steps", description = "Timed steps (default: 5).")
        int steps = 5;

        @Option(names = "--device", description = "cpu, cuda or sim (default: cpu).")
        String device = "cpu";

        @Option(names = "--dtype", description = "fp32, bf16 (autocast) or fp16 (autocast and loss scaling) (default: fp32).")
        String dtype = "fp32";

        @Option(names = "--warmup", description = "Untimed steps before the timed ones (default: 2, as the PyTorch script).")
        int warmup = 2;

        @Option(names = "--trace", description = "Print each step's seconds on stderr, warm-up included.")
        boolean trace;

        @Option(names = "--profile", description = "After the result line, print the timed steps' time by op (forward, backward, optimizer).")
        boolean profile;

        @Override
        public Integer call() {
            var onDevice = dev.tessera.tensor.Device.parse(device);
            var low = dev.tessera.models.train.TrainConfig.autocastType(dtype); // G9: null for fp32
            var scaler = dtype.equals("fp16") ? new dev.tessera.nn.optim.GradScaler() : null;
            if (threads < 1 || steps < 1 || warmup < 0) {
                throw new IllegalArgumentException("bench train: --threads and --steps must be >= 1 and --warmup >= 0");
            }
            dev.tessera.tensor.Parallel.setThreads(threads);
            var p = dev.tessera.models.Preset.of(preset);
            var cfg = p.config();
            var g = new dev.tessera.tensor.Generator(0);
            var model = dev.tessera.models.Models.create(cfg, g);
            model.module().to(onDevice);
            var opt = new dev.tessera.nn.optim.AdamW(dev.tessera.nn.optim.ParamGroup.all(model.module().parameters()), 3e-4, 0.9, 0.95,
                    1e-8, 0.1);
            int b = p.batchSize();
            int t = cfg.contextLength();
            var x = dev.tessera.tensor.Tensor.randint(g, 0, cfg.vocabSize(), dev.tessera.tensor.DType.I64, b, t).to(onDevice);
            var y = dev.tessera.tensor.Tensor.randint(g, 0, cfg.vocabSize(), dev.tessera.tensor.DType.I64, b, t).to(onDevice);
            Runnable step = () -> {
                long start = System.nanoTime();
                opt.zeroGrad();
                OpProfile.add("step", "zero_grad", System.nanoTime() - start);
                OpProfile.mark();
                dev.tessera.autograd.Variable loss;
                try (var precision = low == null ? null : dev.tessera.autograd.Autocast.enable(low)) {
                    loss = dev.tessera.nn.loss.Losses.crossEntropyFused(model.forward(x, null), y);
                }
                if (scaler == null) {
                    loss.backward();
                    start = System.nanoTime();
                    opt.step();
                } else {
                    scaler.scale(loss).backward();
                    start = System.nanoTime();
                    scaler.step(opt);
                    scaler.update();
                }
                OpProfile.add("step", "optimizer", System.nanoTime() - start);
                if (onDevice != dev.tessera.tensor.Device.CPU) {
                    dev.tessera.tensor.Dispatch.backend(onDevice).synchronize(); // time the device's work, not its queueing
                }
            };
            PrintWriter err = spec.commandLine().getErr();
            for (int i = 0; i < warmup; i++) {
                long s = System.nanoTime();
                step.run();
                if (trace) {
                    err.printf(Locale.ROOT, "warmup %d step_s=%.4f%n", i + 1, (System.nanoTime() - s) / 1e9);
                    err.flush();
                }
            }
            double[] times = new double[steps];
            long allocatedBefore = allocatedBytes();
            long gcBefore = gcMillis();
            if (profile) {
                OpProfile.start();
            }
            for (int i = 0; i < steps; i++) {
                long s = System.nanoTime();
                step.run();
                times[i] = (System.nanoTime() - s) / 1e9;
                if (trace) {
                    err.printf(Locale.ROOT, "step %d step_s=%.4f%n", i + 1, times[i]);
                    err.flush();
                }
            }
            OpProfile.stop();
            long gcPerStep = (gcMillis() - gcBefore) / steps;
            long allocatedPerStep = (allocatedBytes() - allocatedBefore) / steps;
            double mean = java.util.Arrays.stream(times).average().orElseThrow();
            java.util.Arrays.sort(times);
            double med = times[steps / 2];
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "tessera preset=%s params=%d device=%s dtype=%s threads=%d step_s=%.4f peak_rss_mb=%d alloc_mb_per_step=%d tokens_per_s=%.0f%n",
                    preset, model.module().parameterCount(), onDevice.label(), dtype, threads, med, peakRssMb(), allocatedPerStep >> 20, b * t / med);
            if (profile) {
                out.printf(Locale.ROOT, "time by op over the %d timed steps (mean step %.4f s, of which GC pauses %d ms; a pause is also"
                        + " inside the row it interrupted):%n%s", steps, mean, gcPerStep, OpProfile.report(steps, mean));
            }
            out.flush();
            return 0;
        }
    }

    /**
     * Single-stream greedy decoding with the KV cache, timed as {@code bench/decode_peer.py} times
     * PyTorch: a random prompt, {@code --warmup} untimed generations, then the median of {@code --runs}
     * generations; tokens/s counts generated tokens over prefill plus decode time. Decoding reads
     * every weight matrix once per token, so the line also gives the weight bytes streamed per
     * second (embedding tables count only where they are the tied output head).
     */
    @Command(name = "decode", mixinStandardHelpOptions = true,
            description = "Decoding throughput (greedy, KV cache); one line ending in tokens_per_s=<number>.")
    static final class Decode implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--hf", description = "A Hugging Face directory (config.json + safetensors) to decode with.")
        java.nio.file.Path hf;

        @Option(names = "--preset", description = "Random weights of a preset instead of --hf: tiny, small or gpt2.")
        String preset;

        @Option(names = "--threads", description = "Worker threads (default: all cores).")
        int threads = Runtime.getRuntime().availableProcessors();

        @Option(names = "--tokens", description = "Tokens to generate per run (default: 64).")
        int tokens = 64;

        @Option(names = "--prompt-tokens", description = "Random prompt length (default: 16).")
        int promptTokens = 16;

        @Option(names = "--runs", description = "Timed generations; the median is reported (default: 3).")
        int runs = 3;

        @Option(names = "--warmup", description = "Untimed generations first, for the JIT (default: 3).")
        int warmup = 3;

        @Override
        public Integer call() throws java.io.IOException {
            if ((hf == null) == (preset == null)) {
                throw new IllegalArgumentException("bench decode: give exactly one of --hf DIR or --preset NAME");
            }
            if (threads < 1 || tokens < 1 || promptTokens < 1 || runs < 1 || warmup < 0) {
                throw new IllegalArgumentException("bench decode: --threads, --tokens, --prompt-tokens and --runs must be >= 1, --warmup >= 0");
            }
            dev.tessera.tensor.Parallel.setThreads(threads);
            var model = hf != null ? dev.tessera.models.hf.HuggingFaceCheckpoint.load(hf)
                    : dev.tessera.models.Models.create(dev.tessera.models.Preset.of(preset).config(), new dev.tessera.tensor.Generator(0));
            var cfg = model.config();
            if (promptTokens + tokens > cfg.contextLength()) {
                throw new IllegalArgumentException("bench decode: --prompt-tokens + --tokens = " + (promptTokens + tokens)
                        + " exceeds the context length " + cfg.contextLength());
            }
            long[] promptIds = dev.tessera.tensor.Tensor.randint(new dev.tessera.tensor.Generator(1), 0, cfg.vocabSize(),
                    dev.tessera.tensor.DType.I64, promptTokens).toLongArray();
            int[] prompt = java.util.Arrays.stream(promptIds).mapToInt(Math::toIntExact).toArray();
            var generator = new dev.tessera.models.generate.TextGenerator(model);
            var greedy = dev.tessera.models.generate.Sampler.greedy();
            java.util.function.IntConsumer ignore = t -> {};
            for (int i = 0; i < warmup; i++) {
                generator.generate(prompt, tokens, greedy, new dev.tessera.tensor.Generator(0), -1, ignore);
            }
            double[] rates = new double[runs];
            for (int i = 0; i < runs; i++) {
                rates[i] = generator.generate(prompt, tokens, greedy, new dev.tessera.tensor.Generator(0), -1, ignore).tokensPerSecond();
            }
            java.util.Arrays.sort(rates);
            double rate = rates[runs / 2];
            long weightBytes = streamedWeightBytes(model);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "tessera decode model=%s params=%d threads=%d prompt=%d tokens=%d weights_mb=%.1f gb_per_s=%.2f "
                            + "peak_rss_mb=%d tokens_per_s=%.1f%n", hf != null ? hf.getFileName() : preset, model.parameterCount(), threads,
                    promptTokens, tokens, weightBytes / 1e6, weightBytes * rate / 1e9, peakRssMb(), rate);
            out.flush();
            return 0;
        }

        /** Bytes of the parameters one decoding step reads in full: all but the embedding lookups. */
        static long streamedWeightBytes(dev.tessera.models.LanguageModel model) {
            long bytes = 0;
            long embedding = 0;
            for (var e : model.stateDict().entrySet()) {
                long b = (long) e.getValue().numel() * e.getValue().dtype().byteSize();
                String name = e.getKey();
                if (name.contains("embed_tokens") || name.endsWith("wte.weight")) {
                    embedding = b;
                } else if (!name.endsWith("wpe.weight") && !name.endsWith("inv_freq")) {
                    bytes += b;
                }
            }
            return bytes + (model.config().tieEmbeddings() ? embedding : 0);
        }
    }
}
