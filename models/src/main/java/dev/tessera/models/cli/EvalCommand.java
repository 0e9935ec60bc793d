package dev.tessera.models.cli;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.train.RunDirectory;
import dev.tessera.models.train.Objective;
import dev.tessera.models.train.RunInfo;
import dev.tessera.nn.loss.Losses;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera eval}: validation loss and perplexity of a run's newest checkpoint. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Validation loss and perplexity of a checkpoint on the held-out part of the run's data.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "A run directory (runs/<name>) or one of its checkpoint directories.")
    Path checkpoint;

    @Option(names = "--data", description = "Data to evaluate on (default: the run's own, as its run.json records).")
    Path data;

    @Option(names = "--device", description = "cpu, cuda or sim (default: cpu).")
    String device = "cpu";

    @Option(names = "--batches", description = "Validation batches (default: 8).")
    int batches = 8;

    @Option(names = "--batch-size", description = "Sequences per batch (default: 8).")
    int batchSize = 8;

    @Option(names = "--seed", description = "Data seed (default: the run's).")
    Long seed;

    @Option(names = "--cache-dir", description = "Tokenized-corpus cache (default: ~/.cache/tessera/tokens).")
    Path cacheDir;

    @Override
    public Integer call() throws Exception {
        if (batches < 1 || batchSize < 1) {
            throw new IllegalArgumentException("eval: --batches and --batch-size must be >= 1");
        }
        dev.tessera.tensor.Device onDevice = dev.tessera.tensor.Device.parse(device);
        LanguageModel model = RunDirectory.loadModel(checkpoint, "eval", spec.commandLine().getOut());
        model.module().to(onDevice);
        Path runDir = RunDirectory.of(checkpoint);
        Tokenizer tokenizer = GenerateCommand.tokenizerIn(runDir, null);
        PrintWriter out = spec.commandLine().getOut();
        PackedDataset dataset = runData(runDir, tokenizer, model.config().contextLength(), out);
        model.module().eval();
        boolean encoder = model.config().architecture() == ModelConfig.Architecture.BERT;
        // an encoder is scored as it trained: masked-LM on the validation batches' seeded masks (MaskedLm)
        Objective mlm = encoder ? Objective.of(model.config(), tokenizer.endOfDocument(), runSeed(runDir), 0) : null;
        double total = 0;
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < batches; i++) {
                PackedDataset.Batch b = dataset.validationBatch(i, batchSize).to(onDevice);
                if (encoder) {
                    total += mlm.validationLoss(model, b, i).item();
                } else { // Perceiver AR (B23) scores only its last positions' targets
                    var logits = model.forward(b.inputs(), PackedDataset.mask(b));
                    total += Losses.crossEntropy(logits, Objective.scoredTargets(logits, b.targets())).item();
                }
            }
        }
        double loss = total / batches;
        if (encoder) {
            out.printf(Locale.ROOT, "val_mlm_loss=%.4f (masked-LM cross-entropy on 15%% of positions; %d batches of %d x %d tokens)%n", loss,
                    batches, batchSize, model.config().contextLength());
            out.flush();
            return 0;
        }
        out.printf(Locale.ROOT, "val_loss=%.4f perplexity=%.3f (%d batches of %d x %d tokens)%n", loss, Math.exp(loss), batches, batchSize,
                model.config().contextLength());
        out.flush();
        return 0;
    }

    /** The seed the run trained with (its validation masks depend on it), or --seed. */
    private long runSeed(Path runDir) {
        if (seed != null || !Files.exists(runDir.resolve(RunInfo.FILE))) {
            return seed != null ? seed : 1337;
        }
        return RunInfo.read(runDir).seed();
    }

    /**
     * The run's own data, split and seed, as its run.json records them (or --data and
     * --seed), saying which; a run without run.json (made before it existed) gets the default corpus, with a note.
     */
    private PackedDataset runData(Path runDir, Tokenizer tokenizer, int contextLength, PrintWriter out) {
        RunInfo info = null;
        if (Files.exists(runDir.resolve(RunInfo.FILE))) {
            try {
                info = RunInfo.read(runDir);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("eval: " + e.getMessage(), e);
            }
        }
        Path source = data != null ? data : info != null ? info.dataPath() : null;
        out.println("eval: data " + (data != null ? "from --data" : info != null ? "recorded in " + runDir.resolve(RunInfo.FILE)
                : "by default (" + runDir + " has no " + RunInfo.FILE + " recording the run's data; pass --data to choose)"));
        long dataSeed = seed != null ? seed : info != null ? info.seed() : 1337;
        PackedDataset dataset = TrainCommand.loadData("eval", () -> TrainData.load(source, cacheDir, tokenizer, contextLength, dataSeed, out));
        if (data == null && info != null && dataset.corpus().numTokens() != info.dataTokens()) {
            out.printf(Locale.ROOT, "note: the data has %,d tokens now but had %,d when the run was created; its validation part may differ%n",
                    dataset.corpus().numTokens(), info.dataTokens());
        }
        out.println(dataset.describeSplit());
        return dataset;
    }
}
