package dev.tessera.models.cli;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.Preset;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.train.TrainConfig;
import dev.tessera.models.train.Trainer;
import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.tokenizer.TokenizerJson;
import dev.tessera.nn.AttentionKind;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Parallel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera train}: trains a language model from nothing, by default on the JDK's own sources. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a language model (default: the tiny preset on the JDK's java.base sources).")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--preset", description = "tiny, small or gpt2 (default: tiny).")
    String preset = "tiny";

    @Option(names = "--model-config", description = "A config.json (Hugging Face fields, as a run writes it) describing the model, instead of --preset.")
    Path modelConfigFile;

    @Option(names = "--data", description = "A text file, a directory of text files or a zip (default: the JDK's lib/src.zip java.base).")
    Path data;

    @Option(names = "--name", description = "Run name: writes runs/<name>/ (default: the preset).")
    String name;

    @Option(names = "--runs-dir", description = "Where runs are written (default: runs).")
    Path runsDir = Path.of("runs");

    @Option(names = "--resume", description = "Continue the run from its newest complete checkpoint.")
    boolean resume;

    @Option(names = "--overwrite", description = "Delete an existing run directory of the same name first.")
    boolean overwrite;

    @Option(names = "--sample-tokens", description = "Tokens of the sample printed after training, 0 for none (default: 200).")
    int sampleTokens = 200;

    @Option(names = "--steps", description = "Optimizer steps (default: 200, a few minutes on 2 cores for the tiny preset).")
    long steps = 200;

    @Option(names = "--batch-size", description = "Sequences per micro-batch (default: the preset's).")
    Integer batchSize;

    @Option(names = "--grad-accum", description = "Micro-batches per step (default: 1).")
    int gradAccum = 1;

    @Option(names = "--optimizer", description = "adamw, adam, sgd, lion or schedulefree (default: adamw).")
    String optimizer = "adamw";

    @Option(names = "--lr", description = "Peak learning rate (default: 3e-3).")
    double lr = 3e-3;

    @Option(names = "--min-lr", description = "Cosine floor (default: lr/10).")
    Double minLr;

    @Option(names = "--warmup", description = "Warmup steps (default: min(100, steps/10)).")
    Long warmup;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay (default: 0.1).")
    double weightDecay = 0.1;

    @Option(names = "--clip", description = "Global gradient-norm clip, 0 for none (default: 1.0).")
    double clip = 1.0;

    @Option(names = "--z-loss", description = "z-loss coefficient (PaLM uses 1e-4; default: 0).")
    double zLoss = 0;

    @Option(names = "--eval-every", description = "Validate every N steps (default: 50).")
    int evalEvery = 50;

    @Option(names = "--eval-batches", description = "Validation batches per evaluation (default: 4).")
    int evalBatches = 4;

    @Option(names = "--checkpoint-every", description = "Checkpoint every N steps (default: 100).")
    int checkpointEvery = 100;

    @Option(names = "--keep", description = "Checkpoints kept (default: 3, at least 2).")
    int keep = 3;

    @Option(names = "--seed", description = "Seed for initialisation and data order (default: 1337).")
    long seed = 1337;

    @Option(names = "--threads", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = "--device", description = "cpu or cuda (default: cpu).")
    String device = "cpu";

    @Option(names = "--attention", description = "softmax, keynorm, performer, memory_efficient or alibi (default: the preset's).")
    String attention;

    @Option(names = "--cache-dir", description = "Tokenized-corpus cache (default: ~/.cache/tessera/tokens).")
    Path cacheDir;

    @Option(names = "--tokenizer", description = "A Hugging Face tokenizer.json (byte-level BPE) instead of raw bytes; sets the vocabulary size.")
    Path tokenizerJson;

    @Override
    public Integer call() throws Exception {
        if (Device.parse(device) == Device.CUDA) {
            throw new IllegalArgumentException("train: --device cuda is not available in this build (the CUDA backend cannot run ops yet)");
        }
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        PrintWriter out = spec.commandLine().getOut();
        Preset p = Preset.of(preset);
        ModelConfig modelConfig = modelConfigFile == null ? p.config() : ModelConfig.fromJson(Files.readString(modelConfigFile));
        if (attention != null) {
            AttentionKind kind = parseKind(attention);
            var builder = modelConfig.toBuilder().attentionKind(kind);
            if (kind == AttentionKind.ALIBI) {
                builder.positional(ModelConfig.Positional.NONE); // ALiBi replaces positional encodings
            }
            modelConfig = builder.build();
        }
        Tokenizer tokenizer = tokenizerJson == null ? new ByteTokenizer() : TokenizerJson.load(tokenizerJson);
        if (tokenizer.vocabSize() != modelConfig.vocabSize()) {
            modelConfig = modelConfig.toBuilder().vocabSize(tokenizer.vocabSize()).build();
        }
        String runName = name != null ? name : preset;
        Path runDir = runsDir.resolve(runName);
        if (resume && overwrite) {
            throw new IllegalArgumentException("train: --resume and --overwrite contradict each other");
        }
        if (Files.isDirectory(runDir) && !resume) {
            boolean empty;
            try (var entries = Files.list(runDir)) {
                empty = entries.findAny().isEmpty();
            }
            if (!empty && !overwrite) {
                throw new IllegalArgumentException("train: run directory " + runDir + " already exists; pass --resume to continue it or"
                        + " --overwrite to replace it");
            }
            if (overwrite) {
                dev.tessera.models.train.Checkpoints.deleteTree(runDir);
            }
        }
        int batch = batchSize != null ? batchSize : p.batchSize();
        TrainConfig cfg = new TrainConfig(steps, batch, gradAccum, optimizer, lr, minLr != null ? minLr : lr / 10,
                warmup != null ? warmup : Math.min(100, steps / 10), weightDecay, clip, zLoss, evalEvery, evalBatches, checkpointEvery, keep,
                seed, 4.0, 50, 3);
        cfg = zLoss == 0 && modelConfig.zLoss() > 0 ? cfg.withZLoss(modelConfig.zLoss()) : cfg;
        PackedDataset dataset = TrainData.load(data, cacheDir, tokenizer, modelConfig.contextLength(), seed, out);
        LanguageModel model = Models.create(modelConfig, new Generator(seed));
        Files.createDirectories(runDir);
        Files.writeString(runDir.resolve("config.json"), modelConfig.toJson());
        if (tokenizerJson != null) { // generate finds the tokenizer beside the run's config
            Files.copy(tokenizerJson, runDir.resolve("tokenizer.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        out.printf(Locale.ROOT, "model %s: %,d parameters; %d steps of %d x %d tokens; run dir %s%n", runName,
                model.module().parameterCount(), steps, batch * gradAccum, modelConfig.contextLength(), runDir);
        out.flush();
        try (Progress progress = Progress.create(steps, out)) {
            Trainer trainer = new Trainer(model, dataset, cfg, runDir, progress);
            trainer.run(resume);
        } catch (Trainer.DivergedException e) {
            spec.commandLine().getErr().println("tessera: " + e.getMessage());
            return 3;
        }
        out.printf("done: weights, metrics.csv, loss.png and TensorBoard events in %s%n", runDir);
        if (sampleTokens > 0) {
            out.println("sample:");
            GenerateCommand.stream(model, tokenizer, "public ", sampleTokens, new dev.tessera.models.generate.Sampler(0.8, 40, 0.95, 1.1), seed, out);
        }
        return 0;
    }

    static AttentionKind parseKind(String name) {
        try {
            return AttentionKind.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: unknown --attention '" + name + "' (softmax, keynorm, performer, memory_efficient, alibi)");
        }
    }

    /** A progress bar on a terminal, plain log lines otherwise. */
    static final class Progress implements Trainer.Listener, AutoCloseable {
        private final ProgressBar bar;
        private final PrintWriter out;
        private final long every;
        private double lastVal = Double.NaN;

        private Progress(ProgressBar bar, PrintWriter out, long every) {
            this.bar = bar;
            this.out = out;
            this.every = every;
        }

        static Progress create(long steps, PrintWriter out) {
            if (System.console() != null) {
                return new Progress(new ProgressBarBuilder().setTaskName("train").setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(250).showSpeed().build(), out, 0);
            }
            return new Progress(null, out, Math.max(1, steps / 100));
        }

        @Override
        public void onStep(long step, long total, double loss, double lr, double gradNorm, double tokensPerSecond) {
            String msg = String.format(Locale.ROOT, "loss %.4f%s | lr %.2e | %.0f tok/s", loss,
                    Double.isNaN(lastVal) ? "" : String.format(Locale.ROOT, " | val %.4f", lastVal), lr, tokensPerSecond);
            if (bar != null) {
                bar.stepTo(step);
                bar.setExtraMessage(msg);
            } else if (step % every == 0 || step == total) {
                out.printf(Locale.ROOT, "step %d/%d | %s | grad norm %.3f%n", step, total, msg, gradNorm);
                out.flush();
            }
        }

        @Override
        public void onValidation(long step, double valLoss) {
            lastVal = valLoss;
        }

        @Override
        public void onEvent(String message) {
            if (bar != null) {
                bar.pause();
            }
            out.println(message);
            out.flush();
            if (bar != null) {
                bar.resume();
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
