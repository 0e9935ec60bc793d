package dev.tessera.models.cli;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.nn.Losses;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera eval}: validation loss and perplexity of a run's newest checkpoint. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Validation loss and perplexity of a checkpoint on the validation documents of the data.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "A run directory (runs/<name>) or one of its checkpoint directories.")
    Path checkpoint;

    @Option(names = "--data", description = "The data the run trained on (default: the JDK's lib/src.zip java.base).")
    Path data;

    @Option(names = "--batches", description = "Validation batches (default: 8).")
    int batches = 8;

    @Option(names = "--batch-size", description = "Sequences per batch (default: 8).")
    int batchSize = 8;

    @Option(names = "--seed", description = "The run's data seed, which fixes the split (default: 1337).")
    long seed = 1337;

    @Option(names = "--cache-dir", description = "Tokenized-corpus cache (default: ~/.cache/tessera/tokens).")
    Path cacheDir;

    @Override
    public Integer call() throws Exception {
        if (batches < 1 || batchSize < 1) {
            throw new IllegalArgumentException("eval: --batches and --batch-size must be >= 1");
        }
        LanguageModel model = GenerateCommand.fromRun("eval", checkpoint, spec.commandLine().getOut());
        Tokenizer tokenizer = GenerateCommand.tokenizerIn(GenerateCommand.runDirOf(checkpoint), null);
        PrintWriter out = spec.commandLine().getOut();
        PackedDataset dataset = TrainData.load(data, cacheDir, tokenizer, model.config().contextLength(), seed, out);
        model.module().eval();
        double total = 0;
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < batches; i++) {
                PackedDataset.Batch b = dataset.validationBatch(i, batchSize);
                total += Losses.crossEntropy(model.forward(b.inputs(), PackedDataset.mask(b)), b.targets()).item();
            }
        }
        double loss = total / batches;
        out.printf(Locale.ROOT, "val_loss=%.4f perplexity=%.3f (%d batches of %d x %d tokens)%n", loss, Math.exp(loss), batches, batchSize,
                model.config().contextLength());
        out.flush();
        return 0;
    }
}
