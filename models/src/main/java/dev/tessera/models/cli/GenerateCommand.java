package dev.tessera.models.cli;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.tokenizer.TokenizerJson;
import dev.tessera.models.train.RunDirectory;
import dev.tessera.tensor.Generator;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera generate}: sample text from a trained run or a Hugging Face checkpoint, streaming tokens. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate text with a KV cache from a run directory (--checkpoint) or a Hugging Face directory (--hf).")
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final class Source {
        @Option(names = "--checkpoint", description = "A run directory (runs/<name>) or one of its checkpoint directories.")
        Path checkpoint;

        @Option(names = "--hf", description = "A Hugging Face directory: config.json + model.safetensors (or a sharded index).")
        Path hf;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--prompt", required = true, description = "The text to continue.")
    String prompt;

    @Option(names = "--device", description = "cpu, cuda or sim (default: cpu).")
    String device = "cpu";

    @Option(names = "--max-tokens", description = "Tokens to generate at most (default: 200).")
    int maxTokens = 200;

    @Option(names = "--temperature", description = "0 = greedy (default: 0.8).")
    double temperature = 0.8;

    @Option(names = "--top-k", description = "Keep the k most likely tokens, 0 = off (default: 40).")
    int topK = 40;

    @Option(names = "--top-p", description = "Nucleus sampling mass (default: 0.95).")
    double topP = 0.95;

    @Option(names = "--repetition-penalty", description = "CTRL-style penalty, 1 = off (default: 1.1).")
    double repetitionPenalty = 1.1;

    @Option(names = "--seed", description = "Sampling seed (default: 42).")
    long seed = 42;

    @Option(names = "--tokenizer", description = "A tokenizer.json (default: the one in the run or HF directory, else bytes).")
    Path tokenizerJson;

    @Override
    public Integer call() throws Exception {
        if (maxTokens <= 0) {
            throw new IllegalArgumentException("generate: --max-tokens must be positive, got " + maxTokens);
        }
        Sampler sampler = new Sampler(temperature, topK, topP, repetitionPenalty);
        PrintWriter err = spec.commandLine().getErr();
        LanguageModel model;
        if (source.hf != null) {
            model = HuggingFaceCheckpoint.load(source.hf);
            err.println("checkpoint (Hugging Face): " + source.hf);
        } else {
            model = RunDirectory.loadModel(source.checkpoint, "generate", err);
        }
        Tokenizer tokenizer = tokenizerFor(source.hf != null ? source.hf : RunDirectory.of(source.checkpoint));
        model.module().to(dev.tessera.tensor.Device.parse(device));
        if (model.config().vocabSize() < tokenizer.vocabSize()) {
            throw new IllegalArgumentException("generate: the tokenizer has " + tokenizer.vocabSize() + " tokens but the model only "
                    + model.config().vocabSize() + " (pass the run's --tokenizer)");
        }
        TextGenerator.Result r = stream(model, tokenizer, prompt, maxTokens, sampler, seed, spec.commandLine().getOut(), err);
        int context = model.config().contextLength();
        err.printf(Locale.ROOT, "%d tokens at %.1f tokens/s%s%s%n", r.tokens().length, r.tokensPerSecond(),
                r.stoppedAtEos() ? " (stopped at end of sequence)" : "",
                r.contextShifts() == 0 ? "" : String.format(Locale.ROOT, "; the %d-token context filled, so it was cut back to the newest %d"
                        + " tokens %d times", context, Math.max(1, context / 2), r.contextShifts()));
        err.flush();
        return 0;
    }

    /** {@link #stream(LanguageModel, Tokenizer, String, int, Sampler, long, PrintWriter, PrintWriter)} with notes on {@code out}. */
    static TextGenerator.Result stream(LanguageModel model, Tokenizer tokenizer, String prompt, int maxTokens, Sampler sampler, long seed,
            PrintWriter out) {
        return stream(model, tokenizer, prompt, maxTokens, sampler, seed, out, out);
    }

    /** Prints the prompt, then each token's text as soon as its characters are complete; notes go to {@code err}. */
    static TextGenerator.Result stream(LanguageModel model, Tokenizer tokenizer, String prompt, int maxTokens, Sampler sampler, long seed,
            PrintWriter out, PrintWriter err) {
        if (model.config().architecture() == dev.tessera.models.ModelConfig.Architecture.BERT) {
            throw new IllegalArgumentException("the model is a BERT encoder (masked-LM); it does not generate text (tessera eval scores it)");
        }
        int[] ids = tokenizer.encode(prompt);
        int context = model.config().contextLength();
        if (ids.length > context) {
            err.printf("note: the prompt has %d tokens; the model sees the last %d%n", ids.length, context);
            err.flush();
        }
        out.print(prompt);
        out.flush();
        List<Integer> generated = new ArrayList<>();
        String[] shown = {""};
        TextGenerator.Result r = new TextGenerator(model).generate(ids, maxTokens, sampler, new Generator(seed),
                tokenizer.endOfDocument(), t -> {
                    if (t == tokenizer.endOfDocument()) {
                        return;
                    }
                    generated.add(t);
                    // decode everything so far and print the new suffix: multi-byte characters appear once complete
                    String text = tokenizer.decode(generated.stream().mapToInt(Integer::intValue).toArray());
                    int stable = text.endsWith("\uFFFD") ? text.length() - 1 : text.length();
                    if (stable > shown[0].length()) {
                        out.print(text.substring(shown[0].length(), stable));
                        out.flush();
                        shown[0] = text.substring(0, stable);
                    }
                });
        out.println();
        out.flush();
        return r;
    }

    private Tokenizer tokenizerFor(Path dir) {
        return tokenizerIn(dir, tokenizerJson);
    }

    /** The tokenizer a run or HF directory carries (or {@code explicit}), else bytes. */
    static Tokenizer tokenizerIn(Path dir, Path explicit) {
        Path json = explicit != null ? explicit : dir.resolve("tokenizer.json");
        return Files.isRegularFile(json) ? TokenizerJson.load(json) : new ByteTokenizer();
    }

}
