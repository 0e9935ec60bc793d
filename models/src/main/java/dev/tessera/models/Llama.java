package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.models.ModelConfig.Positional;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.attention.SoftCap;
import dev.tessera.nn.block.Define;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.block.InputEmbedding;
import dev.tessera.nn.block.LmHead;
import dev.tessera.nn.block.TokenEmbedding;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.nn.mixer.TokenMixer;
import dev.tessera.nn.norm.DeepNorm;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.LearnedPositions;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.nn.position.SinusoidalPositions;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;

/**
 * Llama (Touvron et al. 2023, "LLaMA"; Llama 2 and 3), parameter for parameter as Hugging Face's
 * {@code LlamaForCausalLM}, so checkpoints load by name.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (hidden_size), NH heads, KV key/value heads, HS head size, V vocab.
 *
 *   x = embed_tokens(ids)                                   (B, T, C)
 *   for each of the L layers:                               (PRE placement, the Llama default)
 *     x = x + self_attn(input_layernorm(x))                 q/k/v/o_proj, RoPE(θ), GQA (NH/KV query heads share a K/V head)
 *     x = x + mlp(post_attention_layernorm(x))              down_proj(silu(gate_proj(x)) ⊙ up_proj(x))
 *   x = norm(x)                                             (B, T, C)
 *   logits = lm_head(x)                                     (B, T, V), tied to embed_tokens or its own weight
 * </pre>
 *
 * The config's switches change this recipe: norm kind (RMSNorm/LayerNorm) and placement (PRE;
 * POST, which drops the final norm since every block ends in one; SANDWICH as Gemma 2), DeepNorm
 * (POST with α-weighted skips and β-scaled init), the FFN kind and activation, the attention
 * kernel, QK-norm ({@code self_attn.q_norm}/{@code k_norm}), attention and final-logit soft caps,
 * and the positional scheme (RoPE either pairing, or an added learned table
 * {@code model.embed_positions.weight}, or a sinusoidal one, or none for ALiBi). A token mixer
 * (issue 17, {@code model.layers.N.mixer}, e.g. E11 LRU) may replace {@code self_attn} in every
 * layer; each layer then decodes from a recurrent state carried in its cache slot. E6's DeFINE
 * ({@code tessera.embedding define}) may replace the token table of {@code embed_tokens}.
 */
public final class Llama extends Module implements LanguageModel {

    /** One decoder layer (Hugging Face {@code LlamaDecoderLayer}). */
    static final class Block extends Module implements PerceiverAr.Block {
        private final MultiHeadAttention attn; // null when a token mixer replaces attention
        private final TokenMixer mixer; // issue 17: null for attention
        private final Layer mlp; // FeedForward, or the FFN kind's own layer (E16 MoE)
        private final NormPlacement placement;
        private final Layer n1;
        private final Layer n1post;
        private final Layer n2;
        private final Layer n2post;
        private final Dropout drop;
        private final double alpha; // DeepNorm's skip weight; 1 otherwise

        Block(ModelConfig c, int layer, Generator g) {
            RotaryEmbedding.Convention rope = switch (c.positional()) {
                case ROPE_HALF_SPLIT -> RotaryEmbedding.Convention.HALF_SPLIT;
                case ROPE_INTERLEAVED -> RotaryEmbedding.Convention.INTERLEAVED;
                default -> null;
            };
            mixer = c.mixer() == null ? null : (TokenMixer) child("mixer", c.mixer().atLayer(layer, c.layers()).create(c.dim(), c.dtype(), g));
            attn = mixer != null ? null : child("self_attn", new MultiHeadAttention(new MultiHeadAttention.Config(c.dim(), c.heads(), c.kvHeads(), c.headDim(),
                    c.bias(), rope, c.ropeTheta(), c.contextLength(), c.qkNorm() ? c.normKind() : null, c.normEps(),
                    c.attentionSoftCap(), c.dropout(), c.dtype(), c.attentionKind(), c.attentionOptions()), layer, g));
            mlp = FeedForwardKinds.inLayer(c.ffnKind(), c.ffnOptions(), layer) ? (Layer) child("mlp", (Module) FeedForwardKinds.create(c.ffnKind(), c.dim(), c.ffnHidden(),
                    c.activation(), c.bias(), FeedForwardKinds.atLayer(c.ffnOptions(), layer, c.layers()), c.dtype(), g))
                    : child("mlp", new FeedForward(new FeedForward.Config(c.dim(), c.ffnHidden(), c.ffnKind().hasOptions()
                    ? FeedForward.Kind.SWIGLU : c.ffnKind(), c.activation(), c.bias(), c.dtype()), g)); // E1's other layers: SwiGLU
            placement = c.normPlacement();
            // Names: Llama's two pre-norms; post-norm reuses nn.TransformerBlock's names; sandwich is Gemma 2's four.
            switch (placement) {
                case PRE -> {
                    n1 = norm(c, "input_layernorm");
                    n2 = norm(c, "post_attention_layernorm");
                    n1post = n2post = null;
                }
                case POST -> {
                    n1 = norm(c, "post_attention_layernorm");
                    n2 = norm(c, "post_feedforward_layernorm");
                    n1post = n2post = null;
                }
                default -> {
                    n1 = norm(c, "input_layernorm");
                    n1post = norm(c, "post_attention_layernorm");
                    n2 = norm(c, "pre_feedforward_layernorm");
                    n2post = norm(c, "post_feedforward_layernorm");
                }
            }
            drop = child("resid_dropout", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
            alpha = c.deepNorm() ? DeepNorm.alpha(c.layers(), DeepNorm.Arch.DECODER_ONLY) : 1;
        }

        private Layer norm(ModelConfig c, String name) {
            return (Layer) child(name, c.normKind().create(c.dim(), c.normEps(), c.bias(), c.dtype()));
        }

        /** x (B, T, C) → (B, T, C); {@code cache} may be null. */
        Variable forward(Variable x, AttentionMask mask, KvCache cache) {
            return forward(x, x, mask, cache);
        }

        /** Queries and residual from xq (B, N, C), keys/values from xkv (B, T, C) (Perceiver AR's first layer) → (B, N, C). */
        @Override
        public Variable forward(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            return switch (placement) {
                case PRE -> {
                    Variable h = xq.add(drop.forward(attend(n1, xq, xkv, mask, cache))); // (B, N, C)
                    yield h.add(drop.forward(FeedForwardKinds.forward(mlp, n2.forward(h), mask, cache)));
                }
                case POST -> {
                    Variable h = n1.forward(skip(xq).add(drop.forward(mix(xq, xkv, mask, cache)))); // (B, N, C)
                    yield n2.forward(skip(h).add(drop.forward(FeedForwardKinds.forward(mlp, h, mask, cache))));
                }
                case SANDWICH -> {
                    Variable h = xq.add(n1post.forward(drop.forward(attend(n1, xq, xkv, mask, cache)))); // (B, N, C)
                    yield h.add(n2post.forward(drop.forward(FeedForwardKinds.forward(mlp, n2.forward(h), mask, cache))));
                }
            };
        }

        private Variable attend(Layer norm, Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            Variable kv = norm.forward(xkv);
            return mix(xq == xkv ? kv : norm.forward(xq), kv, mask, cache);
        }

        /** Attention, or the token mixer in its place (xq = xkv there: no Perceiver AR), its recurrent state as the layer's cache. */
        private Variable mix(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            return mixer == null ? attn.forward(xq, xkv, mask, cache) : mixer.forward(xq, mask, MixerState.of(cache));
        }

        private Variable skip(Variable x) {
            return alpha == 1 ? x : x.mul(alpha);
        }

        MultiHeadAttention attention() {
            return attn;
        }
    }

    /** The decoder body (Hugging Face {@code LlamaModel}, registered as {@code model}). */
    static final class Body extends Module {
        private final InputEmbedding embed; // TokenEmbedding, or E6's DeFINE
        private final LearnedPositions learned;
        private final SinusoidalPositions sinusoidal;
        private final ModuleList<Block> layers;
        private final Hourglass hourglass;
        private final Layer norm;
        private final int latents; // Perceiver AR's N, 0 otherwise

        Body(ModelConfig c, Generator g) {
            latents = PerceiverAr.latents(c);
            embed = child("embed_tokens", c.embedding() != null
                    ? new Define(c.vocabSize(), c.dim(), c.embedding(), c.dropout(), c.initStd(), g, c.dtype())
                    : new TokenEmbedding(c.vocabSize(), c.dim(), c.dim(), false, c.dropout(), c.initStd(), g, c.dtype()));
            learned = c.positional() == Positional.LEARNED
                    ? child("embed_positions", new LearnedPositions(c.contextLength(), c.dim(), c.initStd(), g, c.dtype())) : null;
            sinusoidal = c.positional() == Positional.SINUSOIDAL ? new SinusoidalPositions(c.dim()) : null;
            layers = child("layers", new ModuleList<>());
            for (int l = 0; l < c.layers(); l++) {
                layers.add(new Block(c, l, g));
            }
            hourglass = c.hourglass() == null ? null : child("hourglass", new Hourglass(c.hourglass(), c.dim(), c.bias(), g, c.dtype()));
            // A post-norm block already ends in a norm; the others need a final one.
            norm = c.normPlacement() == NormPlacement.POST ? null
                    : (Layer) child("norm", c.normKind().create(c.dim(), c.normEps(), c.bias(), c.dtype()));
        }

        List<Block> blocks() {
            return java.util.stream.StreamSupport.stream(layers.spliterator(), false).toList();
        }

        /** ids (B, T) → hidden states (B, T, C) (Perceiver AR: (B, n, C) of the last n); the first token sits at position {@code past}. */
        Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches, int past) {
            Variable x = embed.forward(ids); // (B, T, C)
            if (learned != null) {
                x = learned.forward(x, past); // (B, T, C)
            } else if (sinusoidal != null) {
                x = sinusoidal.forward(x, past);
            }
            if (latents > 0) {
                x = PerceiverAr.forward(blocks(), latents, x, mask, caches); // (B, n, C)
            } else if (hourglass != null) { // B27: the middle layers on the shortened sequence
                x = hourglass.forward(x, (l, h, m, cache) -> layers.get(l).forward(h, m, cache), mask, caches, past); // (B, T, C)
            } else {
                for (int l = 0; l < layers.size(); l++) {
                    x = layers.get(l).forward(x, mask, caches == null ? null : caches.get(l)); // (B, T, C)
                    dev.tessera.nn.Probe.layerOutput(x);
                }
            }
            return norm == null ? x : norm.forward(x);
        }
    }

    private final ModelConfig config;
    private final Body model;
    private final LmHead head;

    /** Builds a Llama from {@code c} (architecture LLAMA), initialised from {@code g}. */
    public Llama(ModelConfig c, Generator g) {
        if (c.architecture() != ModelConfig.Architecture.LLAMA) {
            throw new IllegalArgumentException("Llama: config is for architecture " + c.architecture());
        }
        this.config = c;
        model = child("model", new Body(c, g));
        head = child("lm_head", c.tieEmbeddings() ? new LmHead(model.embed, g) : new LmHead(c.dim(), c.vocabSize(), g, c.dtype()));
        Models.initialise(this, c, g);
    }

    @Override
    public Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches) {
        int past = PerceiverAr.latents(config) > 0 ? PerceiverAr.past("Llama", caches) : Models.checkInputs("Llama", config, ids, caches);
        AttentionMask m = mask == null ? AttentionMask.causalOnly() : mask;
        Variable x = model.forward(ids, m, caches, past); // (B, T, C)
        Variable logits = head.forward(x); // (B, T, V); Perceiver AR: (B, n, V) of the last n positions
        return SoftCap.apply(logits, config.finalSoftCap());
    }

    @Override
    public Variable readOut(Variable hidden) {
        Variable x = model.norm == null ? hidden : model.norm.forward(hidden);
        return SoftCap.apply(head.forward(x), config.finalSoftCap());
    }

    @Override
    public Module module() {
        return this;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** The layers, for inspection (kernel kind, attention config). */
    List<Block> blocks() {
        return model.blocks();
    }

    /** Perceiver AR decodes with its two caches (see {@link PerceiverAr}); the others with one per layer. */
    @Override
    public List<KvCache> newCaches(int batch, int maxT) {
        return PerceiverAr.latents(config) > 0 ? PerceiverAr.newCaches(config, batch, maxT) : LanguageModel.super.newCaches(batch, maxT);
    }
}
