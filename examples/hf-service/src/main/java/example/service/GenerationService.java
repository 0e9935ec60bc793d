package example.service;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.tokenizer.TokenizerJson;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What an application keeps for the life of the JVM: one model loaded from a Hugging Face
 * checkpoint directory, its tokenizer, and a method that answers a request. A model holds its KV
 * caches while it generates, so requests are served one at a time ({@code synchronized}); a service
 * that needs more throughput loads one model per worker.
 */
public final class GenerationService {
    /** A request: the prompt, how many tokens to add, and the sampling seed (equal requests, equal answers). */
    public record Request(String prompt, int maxTokens, long seed) {}

    /** An answer: the completion's text and ids, and the decode rate. */
    public record Answer(String text, int[] tokens, double tokensPerSecond) {}

    private final LanguageModel model;
    private final Tokenizer tokenizer;
    private final TextGenerator generator;
    private final Sampler sampler = new Sampler(0.8, 40, 0.95, 1.1);

    private GenerationService(LanguageModel model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.generator = new TextGenerator(model);
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} (or its shards) from {@code dir}, and
     * {@code tokenizer.json} when the directory has one; otherwise a character tokenizer sized to the
     * vocabulary (the tiny test checkpoints have random weights and no tokenizer).
     */
    public static GenerationService open(Path dir) throws IOException {
        LanguageModel model = HuggingFaceCheckpoint.load(dir);
        Path tokenizerJson = dir.resolve("tokenizer.json");
        Tokenizer tokenizer = Files.isRegularFile(tokenizerJson)
                ? TokenizerJson.load(tokenizerJson)
                : new CharTokenizer(model.config().vocabSize());
        return new GenerationService(model, tokenizer);
    }

    public LanguageModel model() {
        return model;
    }

    /** Answers one request; thread-safe. */
    public synchronized Answer complete(Request request) {
        int[] prompt = tokenizer.encode(request.prompt());
        TextGenerator.Result r = generator.generate(prompt, request.maxTokens(), sampler,
                new Generator(request.seed()), -1, id -> {});
        return new Answer(tokenizer.decode(r.tokens()), r.tokens(), r.tokensPerSecond());
    }
}
