package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.LogitScale;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.attention.RealFormerAttention;
import dev.tessera.nn.attention.SoftCap;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A small decoder-only language model assembling the recipe (section A):
 * <pre>
 *   x = TokenEmbedding(ids)                        (B, T, C)   A14–A16
 *   x = block_l(x) for l = 1 … L                   (B, T, C)   A1, A5–A12 (optionally one shared block, A15)
 *   x = N(x)                                       (B, T, C)   final norm, unless post-norm blocks end in one
 *   logits = SoftCap(LmHead(x)·α)                  (B, T, V)   A12, A13, tied or untied head (A15)
 * </pre>
 * Names follow Hugging Face Llama without the {@code model.} prefix: embed_tokens, layers.N, norm, lm_head.
 */
public final class Decoder extends Module {

    /**
     * @param embeddingDim E &lt; dim for an ALBERT factorized embedding, or dim
     * @param finalNorm whether a norm follows the last block
     * @param logitScale α multiplying the logits (1 for none, A13)
     * @param logitSoftCap final-logit soft cap (0 for none, A12)
     */
    public record Config(int vocab, int layers, TransformerBlock.Config block, boolean tieEmbeddings, int embeddingDim,
            boolean embeddingLayerNorm, double embeddingDropout, boolean shareLayers, boolean finalNorm, double logitScale,
            double logitSoftCap, double initStd) {
        public Config {
            if (vocab <= 0 || layers <= 0 || block == null) {
                throw new IllegalArgumentException("Decoder.Config: need vocab > 0, layers > 0 and a block config, got vocab=" + vocab
                        + " layers=" + layers);
            }
            if (embeddingDim <= 0 || embeddingDim > block.dim()) {
                throw new IllegalArgumentException("Decoder.Config: embeddingDim must be in [1, " + block.dim() + "], got " + embeddingDim);
            }
            if (!(embeddingDropout >= 0 && embeddingDropout < 1) || !(logitScale > 0) || !(logitSoftCap >= 0) || !(initStd > 0)) {
                throw new IllegalArgumentException("Decoder.Config: need embeddingDropout in [0, 1), logitScale > 0, logitSoftCap >= 0, "
                        + "initStd > 0, got " + embeddingDropout + ", " + logitScale + ", " + logitSoftCap + ", " + initStd);
            }
        }

        /** A plain pre-norm decoder: untied, unshared, unfactorized, final norm, no scaling. */
        public static Config of(int vocab, int layers, TransformerBlock.Config block) {
            return new Config(vocab, layers, block, false, block.dim(), false, 0, false, true, 1, 0, 0.02);
        }

        public int dim() {
            return block.dim();
        }

        public DType dtype() {
            return block.attention().dtype();
        }
    }

    private final Config config;
    private final TokenEmbedding embed;
    private final List<TransformerBlock> blocks;
    private final Layer norm;
    private final LmHead head;

    public Decoder(Config c, Generator g) {
        this.config = c;
        int d = c.dim();
        DType dt = c.dtype();
        embed = child("embed_tokens", new TokenEmbedding(c.vocab(), d, c.embeddingDim(), c.embeddingLayerNorm(), c.embeddingDropout(),
                c.initStd(), g, dt));
        if (c.shareLayers()) {
            SharedLayers<TransformerBlock> shared = child("layers", new SharedLayers<>(new TransformerBlock(c.block(), g), c.layers()));
            blocks = shared.layers();
        } else {
            ModuleList<TransformerBlock> list = child("layers", new ModuleList<>());
            for (int l = 0; l < c.layers(); l++) {
                list.add(new TransformerBlock(c.block(), g));
            }
            blocks = new ArrayList<>();
            list.forEach(blocks::add);
        }
        // B16: RealFormer kernels hand their scores up the stack in layer order (no-op for other kinds; shared layers refused)
        RealFormerAttention.link(blocks.stream().map(blk -> blk.attention().kernel()).filter(RealFormerAttention.class::isInstance)
                .map(RealFormerAttention.class::cast).toList());
        TransformerBlock.Config b = c.block();
        norm = c.finalNorm() ? (Layer) child("norm", b.norm().create(d, b.normEps(), b.normBias(), dt)) : null;
        head = c.tieEmbeddings() ? child("lm_head", new LmHead(embed, g)) : child("lm_head", new LmHead(d, c.vocab(), g, dt));
    }

    public Config config() {
        return config;
    }

    public TokenEmbedding embedding() {
        return embed;
    }

    public List<TransformerBlock> blocks() {
        return blocks;
    }

    public LmHead head() {
        return head;
    }

    /** One cache per layer application, preallocated for {@code maxT} positions. */
    public KvCache[] newCaches(int batch, int maxT) {
        KvCache[] caches = new KvCache[config.layers()];
        MultiHeadAttention.Config a = config.block().attention();
        for (int l = 0; l < caches.length; l++) {
            caches[l] = KvCache.preallocated(batch, a.numKvHeads(), maxT, a.headDim(), config.dtype());
        }
        return caches;
    }

    /** Causal logits for ids (B, T). */
    public Variable forward(Tensor ids) {
        return forward(ids, AttentionMask.causalOnly(), null);
    }

    /** ids (B, T) → logits (B, T, V); {@code caches} is null or one per layer. */
    public Variable forward(Tensor ids, AttentionMask mask, KvCache[] caches) {
        if (ids.rank() != 2) {
            throw new IllegalArgumentException("Decoder: ids must be (B, T), got " + java.util.Arrays.toString(ids.shape()));
        }
        if (caches != null && caches.length != blocks.size()) {
            throw new IllegalArgumentException("Decoder: " + caches.length + " caches for " + blocks.size() + " layers");
        }
        Variable x = embed.forward(ids); // (B, T, C)
        for (int l = 0; l < blocks.size(); l++) {
            x = blocks.get(l).forward(x, mask, caches == null ? null : caches[l]);
        }
        if (norm != null) {
            x = norm.forward(x);
        }
        Variable logits = LogitScale.apply(head.forward(x), config.logitScale()); // (B, T, V)
        return SoftCap.apply(logits, config.logitSoftCap());
    }
}
