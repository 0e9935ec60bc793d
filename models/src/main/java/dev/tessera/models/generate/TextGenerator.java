package dev.tessera.models.generate;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
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
 *
 * <p><b>Past the context.</b> Like nanoGPT, which crops its input to the last {@code block_size}
 * tokens and keeps going, generation does not stop when the context is full. A prompt longer than
 * the context is cropped to its last {@code context} tokens. When the window would overflow, the
 * cache is emptied and the newest {@code context / 2} tokens are run again as a fresh prefill, at
 * positions 0.. — recomputed, not shifted, so learned positions, RoPE and ALiBi all see the window
 * exactly as a model run on that text alone would. Keeping half (as llama.cpp's context shift
 * does) rather than {@code context − 1} tokens costs one half-context prefill per
 * {@code context / 2} tokens instead of a full prefill per token, so decoding speed holds; every
 * token still conditions on at least half a context. The repetition penalty looks at the window.
 */
public final class TextGenerator {
    private final LanguageModel model;

    public TextGenerator(LanguageModel model) {
        this.model = model;
    }

    /**
     * The outcome: generated ids (prompt excluded), whether EOS stopped it, the decode rate, and how
     * many times the full window was cut back to its newest half (0 while within the context).
     */
    public record Result(int[] tokens, boolean stoppedAtEos, double tokensPerSecond, int contextShifts) {}

    /**
     * Generates {@code maxTokens} after {@code prompt}, or fewer when it samples {@code eos} (pass
     * −1 for none).
     */
    public Result generate(int[] prompt, int maxTokens, Sampler sampler, Generator g, int eos, IntConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generate: the prompt must contain at least one token");
        }
        if (maxTokens < 1) {
            throw new IllegalArgumentException("generate: maxTokens must be >= 1, got " + maxTokens);
        }
        int context = model.config().contextLength();
        int keep = Math.max(1, context / 2);
        model.module().eval();
        Device device = model.module().parameters().getFirst().data().device(); // sampling reads the last logits row on the host
        List<Integer> seq = new ArrayList<>(prompt.length + maxTokens);
        for (int t : prompt) {
            seq.add(t);
        }
        int start = Math.max(0, prompt.length - context); // the window is seq[start:]
        List<KvCache> caches = model.newCaches(1, (int) Math.min(context, (long) prompt.length - start + maxTokens));
        int shifts = 0;
        boolean eosHit = false;
        long t0 = System.nanoTime();
        try (var scope = GradMode.noGrad()) {
            Variable logits = model.forward(ids(seq.subList(start, seq.size()), device), null, caches);
            for (int i = 0; i < maxTokens; i++) {
                int next = sampler.next(lastRow(logits), seq.subList(start, seq.size()), g);
                seq.add(next);
                onToken.accept(next);
                if (next == eos) {
                    eosHit = true;
                    break;
                }
                if (i + 1 == maxTokens) {
                    break;
                }
                if (seq.size() - start > context) { // the cache is full: refill it with the newest tokens
                    start = seq.size() - keep;
                    shifts++;
                    caches.forEach(KvCache::reset);
                    logits = model.forward(ids(seq.subList(start, seq.size()), device), null, caches);
                } else {
                    logits = model.forward(ids(List.of(next), device), null, caches);
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int[] out = seq.subList(prompt.length, seq.size()).stream().mapToInt(Integer::intValue).toArray();
        return new Result(out, eosHit, out.length / Math.max(seconds, 1e-9), shifts);
    }

    private static Tensor ids(List<Integer> tokens, Device device) {
        long[] data = tokens.stream().mapToLong(Integer::longValue).toArray();
        return Tensor.of(Storage.wrap(DType.I64, data), 1, data.length).to(device); // (1, T) on the model's device
    }

    /** Logits of the last position: (1, T, V) → V floats. */
    private static float[] lastRow(Variable logits) {
        Tensor t = logits.data();
        return t.select(0, 0).select(0, t.size(1) - 1).toFloatArray();
    }
}
