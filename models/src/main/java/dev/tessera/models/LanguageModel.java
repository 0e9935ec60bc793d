package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only language model: token ids (B, T) → next-token logits (B, T, V). Dimension
 * legend: B batch, T time, C channels, NH heads, HS head size, V vocab.
 */
public interface LanguageModel {

    /** ids (B, T) integer → logits (B, T, V); {@code mask} null means causal. */
    default Variable forward(Tensor ids, AttentionMask mask) {
        return forward(ids, mask, null);
    }

    /**
     * Cached decoding: with one cache per layer (see {@link #newCaches}) holding P positions, the
     * T new tokens sit at positions P … P+T−1 and their keys/values are appended. {@code caches}
     * may be null (no cache).
     */
    Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches);

    /**
     * The logit lens (nostalgebraist 2020): the final norm and the LM head applied to a hidden
     * state (B, T, C) taken after any layer, as if the layers above it were skipped → (B, T, V).
     */
    default Variable readOut(Variable hidden) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + ": no logit lens (read-out of a hidden state)");
    }

    /** The module tree (parameters, train/eval mode, state dict). */
    Module module();

    ModelConfig config();

    /** Parameters and persistent buffers by Hugging Face name (our layout: Linear weights (out, in)). */
    Map<String, Tensor> stateDict();

    /**
     * One preallocated cache per layer for {@code batch} rows and up to {@code maxT} positions; for
     * sliding-window attention (B5) one that keeps only the last W − 1 positions, however many come;
     * for a token mixer (issue 17) one recurrent state per layer, O(1) per token whatever maxT.
     */
    default List<KvCache> newCaches(int batch, int maxT) {
        ModelConfig c = config();
        List<KvCache> caches = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            if (c.mixer() != null) {
                caches.add(KvCache.recurrent(new MixerState()));
                continue;
            }
            boolean shortened = c.hourglass() != null && c.hourglass().shortened(l); // B27: these hold ⌈T/k⌉ shortened tokens
            int capacity = shortened ? Math.ceilDiv(maxT, c.hourglass().factor()) : maxT;
            caches.add(c.attentionWindow() > 0 ? KvCache.slidingWindow(c.attentionWindow())
                    : KvCache.preallocated(batch, c.kvHeads(), capacity, c.headDim(), c.dtype()));
        }
        return caches;
    }

    default long parameterCount() {
        return module().parameterCount();
    }
}
