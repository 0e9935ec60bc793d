package dev.tessera.models.cli;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.train.RunDirectory;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera sample}: a quick look at what a run has learned (generate has every knob). */
@Command(name = "sample", mixinStandardHelpOptions = true, description = "A quick sample from a run's newest checkpoint (see generate for all options).")
final class SampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "A run directory (runs/<name>) or one of its checkpoint directories.")
    Path checkpoint;

    @Option(names = "--prompt", description = "Text to continue (default: \"public \").")
    String prompt = "public ";

    @Option(names = "--tokens", description = "Tokens to sample (default: 200).")
    int tokens = 200;

    @Override
    public Integer call() throws Exception {
        if (tokens < 1) {
            throw new IllegalArgumentException("sample: --tokens must be >= 1, got " + tokens);
        }
        PrintWriter err = spec.commandLine().getErr();
        LanguageModel model = RunDirectory.loadModel(checkpoint, "sample", err);
        GenerateCommand.stream(model, GenerateCommand.tokenizerIn(RunDirectory.of(checkpoint), null), prompt, tokens,
                new Sampler(0.8, 40, 0.95, 1.1), 42, spec.commandLine().getOut(), err);
        return 0;
    }
}
