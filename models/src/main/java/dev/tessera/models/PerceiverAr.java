package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.PerceiverAttention;
import java.util.List;

/**
 * Perceiver AR (B23; Hawthorne et al. 2022, see {@link PerceiverAttention}) as the decoders' layer
 * loop under {@code --attention perceiver_ar --attention-option latents=N}: the first block's
 * queries are the last n = min(N, T) positions and its keys all T positions (causal, each latent
 * at its own position); the later blocks run on those n latents only; the model returns logits
 * (B, n, V) for the last n positions (with caches: for the new positions among them), and the
 * next-token objective scores the last n targets. With N ≥ T it is the plain decoder.
 *
 * <p>Decoding. The latents' window slides with every new token, so the later layers' states of
 * the older latents change as the oldest leaves the window: caching them would not be exact.
 * What is cached is what stays put: the first layer's keys and values of every position (each a
 * function of its own token and position) in {@code caches.get(0)}, and the first layer's inputs
 * x in {@code caches.get(1)} (stored as its "keys", (B, 1, P, C)) so the window's queries and
 * residuals can be rebuilt. Each step then costs O(n·P) in the first layer (no projections of the
 * P cached positions) plus the n-latent stack, and its last-position logits equal a full forward's
 * over the same tokens. {@link LanguageModel#newCaches} returns these two caches for the kind.
 */
final class PerceiverAr {
    private PerceiverAr() {}

    /** One decoder block seen from here: queries from xq, keys/values from xkv (with the cache's P positions before them). */
    interface Block {
        Variable forward(Variable xq, Variable xkv, AttentionMask mask, KvCache cache);
    }

    /** N when {@code c} runs Perceiver AR, else 0. */
    static int latents(ModelConfig c) {
        return c.attentionKind() == AttentionKind.PERCEIVER_AR ? c.attentionKind().cast(c.attentionOptions(),
                PerceiverAttention.ArOptions.class).latents() : 0;
    }

    /** The first layer's key/value cache and the store of its inputs, for {@code batch} rows and up to {@code maxT} positions. */
    static List<KvCache> newCaches(ModelConfig c, int batch, int maxT) {
        return List.of(KvCache.preallocated(batch, c.kvHeads(), maxT, c.headDim(), c.dtype()),
                KvCache.preallocated(batch, 1, maxT, c.dim(), c.dtype()));
    }

    /** P, the cached positions, after checking the two caches agree; 0 without caches. */
    static int past(String who, List<KvCache> caches) {
        if (caches == null) {
            return 0;
        }
        if (caches.size() != 2 || caches.get(0).length() != caches.get(1).length()) {
            throw new IllegalArgumentException(who + ": perceiver_ar decodes with its two caches (first-layer keys/values and inputs), got "
                    + caches.size() + " caches");
        }
        return caches.get(0).length();
    }

    /**
     * x (B, T, C), the new positions' block inputs → the hidden states after every block of the new
     * positions that are latents, (B, min(T, n), C): all n latents in a full forward, the last
     * position when decoding one token.
     */
    static Variable forward(List<? extends Block> blocks, int latents, Variable x, AttentionMask mask, List<KvCache> caches) {
        Variable all = x; // (B, P+T, C): the first layer's inputs of every position
        if (caches != null) {
            Variable v = x.unsqueeze(1); // (B, 1, T, C)
            all = caches.get(1).append(v, v)[0].squeeze(1);
        }
        int s = all.size(1);
        int n = Math.min(latents, s);
        Variable h = blocks.get(0).forward(n == s ? all : all.narrow(1, s - n, n), x, mask, caches == null ? null : caches.get(0)); // (B, n, C)
        AttentionMask latentMask = mask.forCachedKeys(n, n); // causal among the latents; document ids cut to their columns
        for (int l = 1; l < blocks.size(); l++) {
            h = blocks.get(l).forward(h, h, latentMask, null); // (B, n, C)
        }
        int fresh = Math.min(x.size(1), n); // the new positions among the latents
        return fresh == n ? h : h.narrow(1, n - fresh, fresh); // (B, min(T, n), C)
    }
}
