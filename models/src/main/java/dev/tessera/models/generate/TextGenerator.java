package dev.tessera.models.generate;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.nn.KvCache;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Autoregressive decoding with a KV cache: the prompt is run once (prefill), then each new token
 * is a single-position forward that appends its keys and values to the cache, so a step costs
 * O(T) instead of recomputing the whole sequence. Tokens are handed to a callback as they are
 * produced (for streaming).
 */
public final class TextGenerator {
    private final LanguageModel model;

    public TextGenerator(LanguageModel model) {
        this.model = model;
    }

    /** The outcome: generated ids (prompt excluded), whether EOS stopped it, and the decode rate. */
    public record Result(int[] tokens, boolean stoppedAtEos, double tokensPerSecond) {}

    /**
     * Generates up to {@code maxTokens} after {@code prompt}; stops early at {@code eos} (pass −1
     * for none) or when the context is full.
     */
    public Result generate(int[] prompt, int maxTokens, Sampler sampler, Generator g, int eos, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generate: the prompt must contain at least one token");
        }
        int context = model.config().contextLength();
        if (prompt.length >= context) {
            throw new IllegalArgumentException("generate: the prompt has " + prompt.length + " tokens but the context holds " + context);
        }
        model.module().eval();
        List<Integer> seen = new ArrayList<>();
        for (int t : prompt) {
            seen.add(t);
        }
        int budget = Math.min(maxTokens, context - prompt.length);
        List<KvCache> caches = model.newCaches(1, prompt.length + budget);
        List<Integer> out = new ArrayList<>();
        boolean eosHit = false;
        long start = System.nanoTime();
        try (var scope = GradMode.noGrad()) {
            Variable logits = model.forward(ids(prompt), null, caches);
            for (int i = 0; i < budget; i++) {
                int next = sampler.next(lastRow(logits), seen, g);
                out.add(next);
                seen.add(next);
                onToken.accept(next);
                if (next == eos) {
                    eosHit = true;
                    break;
                }
                if (i + 1 < budget) {
                    logits = model.forward(ids(new int[] {next}), null, caches);
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(out.stream().mapToInt(Integer::intValue).toArray(), eosHit, out.size() / Math.max(seconds, 1e-9));
    }

    /** Recomputes the full sequence at every step (no cache): the reference the cached path must equal. */
    public int[] generateWithoutCache(int[] prompt, int maxTokens, Sampler sampler, Generator g) {
        model.module().eval();
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int[] out = new int[maxTokens];
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < maxTokens; i++) {
                int[] all = seq.stream().mapToInt(Integer::intValue).toArray();
                int next = sampler.next(lastRow(model.forward(ids(all), null)), seq, g);
                out[i] = next;
                seq.add(next);
            }
        }
        return out;
    }

    private static Tensor ids(int[] tokens) {
        long[] data = new long[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            data[i] = tokens[i];
        }
        return Tensor.of(Storage.wrap(DType.I64, data), 1, tokens.length);
    }

    /** Logits of the last position: (1, T, V) → V floats. */
    private static float[] lastRow(Variable logits) {
        Tensor t = logits.data();
        return t.select(0, 0).select(0, t.size(1) - 1).toFloatArray();
    }
}
