package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.tensor.Generator;

/**
 * One decoder block: self-attention and a feed-forward sublayer with residual connections, in
 * any {@link NormPlacement} (A1) and {@link BlockStyle} (A6), with residual dropout (A14). With
 * a = dropout(attn(·)), m = dropout(mlp(·)):
 * <pre>
 *   SERIAL   PRE:      x ← x + a(N₁x);           x ← x + m(N₂x)
 *            POST:     x ← N₁(x + a(x));         x ← N₂(x + m(x))
 *            SANDWICH: x ← x + N₁'(a(N₁x));      x ← x + N₂'(m(N₂x))
 *   PARALLEL PRE:      x ← x + a(N₁x) + m(N₁x)
 *            POST:     x ← N₁(x + a(x) + m(x))
 *            SANDWICH: x ← x + N₁'(a(N₁x)) + N₂'(m(N₁x))
 * </pre>
 * Norm names follow Hugging Face: input_layernorm and post_attention_layernorm (Llama: the norm
 * before the MLP), and Gemma 2's pre_feedforward_layernorm / post_feedforward_layernorm for the
 * sandwich.
 */
public final class TransformerBlock extends Module {

    public record Config(MultiHeadAttention.Config attention, FeedForward.Config mlp, NormKind norm, double normEps, boolean normBias,
            NormPlacement placement, BlockStyle style, double residualDropout) {
        public Config {
            if (attention == null || mlp == null || norm == null || placement == null || style == null) {
                throw new IllegalArgumentException("TransformerBlock.Config: attention, mlp, norm, placement and style are required");
            }
            if (attention.dim() != mlp.dim()) {
                throw new IllegalArgumentException("TransformerBlock.Config: attention dim " + attention.dim() + " != mlp dim " + mlp.dim());
            }
            if (attention.dtype() != mlp.dtype()) {
                throw new IllegalArgumentException("TransformerBlock.Config: attention dtype " + attention.dtype() + " != mlp dtype "
                        + mlp.dtype());
            }
            if (!(normEps >= 0) || !(residualDropout >= 0 && residualDropout < 1)) {
                throw new IllegalArgumentException("TransformerBlock.Config: need normEps >= 0 and residualDropout in [0, 1), got "
                        + normEps + ", " + residualDropout);
            }
        }

        public int dim() {
            return attention.dim();
        }

        public Config with(NormPlacement p, BlockStyle s) {
            return new Config(attention, mlp, norm, normEps, normBias, p, s, residualDropout);
        }

        public Config withDtype(dev.tessera.tensor.DType d) {
            return new Config(attention.withDtype(d), mlp.withDtype(d), norm, normEps, normBias, placement, style, residualDropout);
        }
    }

    private final Config config;
    private final MultiHeadAttention attn;
    private final FeedForward mlp;
    private final Layer n1;
    private final Layer n1post;
    private final Layer n2;
    private final Layer n2post;
    private final Dropout drop;

    public TransformerBlock(Config c, Generator g) {
        this(c, g, new MultiHeadAttention(c.attention(), g));
    }

    /** Layer {@code layer} (0-based) of a stack: kinds such as ALTERNATING pick their kernel by it. */
    public TransformerBlock(Config c, int layer, Generator g) {
        this(c, g, new MultiHeadAttention(c.attention(), layer, g));
    }

    private TransformerBlock(Config c, Generator g, MultiHeadAttention attention) {
        this.config = c;
        attn = child("self_attn", attention);
        mlp = child("mlp", new FeedForward(c.mlp(), g));
        boolean serial = c.style() == BlockStyle.SERIAL;
        Layer a = null;
        Layer ap = null;
        Layer b = null;
        Layer bp = null;
        switch (c.placement()) {
            case PRE -> {
                a = norm(c, "input_layernorm");
                b = serial ? norm(c, "post_attention_layernorm") : null;
            }
            case POST -> {
                a = norm(c, serial ? "post_attention_layernorm" : "post_layernorm");
                b = serial ? norm(c, "post_feedforward_layernorm") : null;
            }
            case SANDWICH -> {
                a = norm(c, "input_layernorm");
                ap = norm(c, "post_attention_layernorm");
                b = serial ? norm(c, "pre_feedforward_layernorm") : null;
                bp = norm(c, "post_feedforward_layernorm");
            }
        }
        n1 = a;
        n1post = ap;
        n2 = b;
        n2post = bp;
        drop = child("resid_dropout", new Dropout(c.residualDropout(), c.residualDropout() > 0 ? g : null));
    }

    private Layer norm(Config c, String name) {
        return (Layer) child(name, c.norm().create(c.dim(), c.normEps(), c.normBias(), c.attention().dtype()));
    }

    public Config config() {
        return config;
    }

    public MultiHeadAttention attention() {
        return attn;
    }

    public FeedForward mlp() {
        return mlp;
    }

    /** x (B, T, C) → (B, T, C); {@code cache} may be null. */
    public Variable forward(Variable x, AttentionMask mask, KvCache cache) {
        boolean serial = config.style() == BlockStyle.SERIAL;
        return switch (config.placement()) {
            case PRE -> {
                if (serial) {
                    Variable h = x.add(drop.forward(attn.forward(n1.forward(x), mask, cache)));
                    yield h.add(drop.forward(mlp.forward(n2.forward(h))));
                }
                Variable n = n1.forward(x);
                yield x.add(drop.forward(attn.forward(n, mask, cache))).add(drop.forward(mlp.forward(n)));
            }
            case POST -> {
                if (serial) {
                    Variable h = n1.forward(x.add(drop.forward(attn.forward(x, mask, cache))));
                    yield n2.forward(h.add(drop.forward(mlp.forward(h))));
                }
                yield n1.forward(x.add(drop.forward(attn.forward(x, mask, cache))).add(drop.forward(mlp.forward(x))));
            }
            case SANDWICH -> {
                if (serial) {
                    Variable h = x.add(n1post.forward(drop.forward(attn.forward(n1.forward(x), mask, cache))));
                    yield h.add(n2post.forward(drop.forward(mlp.forward(n2.forward(h)))));
                }
                Variable n = n1.forward(x);
                yield x.add(n1post.forward(drop.forward(attn.forward(n, mask, cache))))
                        .add(n2post.forward(drop.forward(mlp.forward(n))));
            }
        };
    }
}
