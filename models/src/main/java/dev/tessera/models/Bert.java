package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.attention.RealFormerAttention;
import dev.tessera.nn.block.LmHead;
import dev.tessera.nn.block.TokenEmbedding;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.ConditionalFeedForward;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.mixer.TokenMixer;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.nn.position.LearnedPositions;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
 * Understanding"), the encoder with its masked-language-model head, named as Hugging Face's
 * {@code BertForMaskedLM} state dict ({@code bert.…}, {@code cls.predictions.…}).
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (hidden_size), NH heads, HS head size (C / NH), V vocab.
 *
 *   x = drop(LN(word(ids) + token_type(types) + position(0 … T−1)))        (B, T, C)  bert.embeddings
 *   for each of the L layers bert.encoder.layer.N (post-LN):
 *     a = LN(x + drop(dense(attn(query(x), key(x), value(x)))))             attention.self / attention.output
 *     x = LN(a + drop(dense₂(gelu(dense₁(a)))))                             intermediate.dense, output.dense
 *   h = LN(gelu(dense(x)))                                                   cls.predictions.transform
 *   logits = h · wordᵀ + bias                                  (B, T, V)  decoder tied to the word table
 * </pre>
 *
 * Attention attends both ways: the mask is never causal. Padding is a key mask: {@link
 * #paddingMask} turns Hugging Face's {@code attention_mask} (1 real, 0 padding) into document ids,
 * so real positions see exactly the real keys, as in transformers. A padding query then sees the
 * padding keys (transformers lets it see the real ones); its output is garbage in both and reaches
 * no real position and no loss term (labels −100), so logits at real positions, the loss and every
 * gradient are the same. Any {@link AttentionKind} that accepts a non-causal mask may replace
 * softmax; its extra parameters sit under {@code attention.self.kernel}. The feed-forward may be
 * CoLT5's conditional one (ffn CONDITIONAL, B24; see {@link Layer}). A bidirectional token mixer
 * (issue 17, e.g. E7 FNet; {@link ModelConfig#mixer()}) may replace attention in every layer:
 * {@code encoder.layer.N.mixer}, then {@code mixer_output} (dropout, residual, LayerNorm, no dense),
 * given the same non-causal mask, whose document ids (packed rows, padding) it mixes within only. The body ({@link Body})
 * is shared with {@link Electra}. Vocabulary: the run's tokenizer plus one {@code [MASK]} id at
 * the end ({@link #maskTokenId}).
 */
public final class Bert extends Module implements LanguageModel {
    /** Segment A and B (Hugging Face's type_vocab_size; BERT's next-sentence pairs). */
    public static final int TYPE_VOCAB_SIZE = 2;

    /** {@code embeddings}: word + token type + position, LayerNorm, dropout. */
    static final class Embeddings extends Module {
        private final TokenEmbedding word;
        private final LearnedPositions position;
        private final TokenEmbedding tokenType;
        private final LayerNorm norm;
        private final Dropout drop;

        Embeddings(ModelConfig c, Generator g) {
            word = child("word_embeddings", new TokenEmbedding(c.vocabSize(), c.dim(), c.initStd(), g, c.dtype()));
            position = child("position_embeddings", new LearnedPositions(c.contextLength(), c.dim(), c.initStd(), g, c.dtype()));
            tokenType = child("token_type_embeddings", new TokenEmbedding(TYPE_VOCAB_SIZE, c.dim(), c.initStd(), g, c.dtype()));
            norm = child("LayerNorm", new LayerNorm(c.dim(), c.normEps(), true, true, c.dtype()));
            drop = child("dropout", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
        }

        Variable forward(Tensor ids, Tensor types) {
            Variable x = word.forward(ids).add(tokenType.forward(types)); // (B, T, C)
            return drop.forward(norm.forward(position.forward(x, 0)));
        }
    }

    /** {@code attention.self}: the q, k, v projections and the kernel (softmax by default). */
    static final class SelfAttention extends Module {
        private final int heads;
        private final int headDim;
        private final Linear query;
        private final Linear key;
        private final Linear value;
        private final AttentionKernel kernel;

        SelfAttention(ModelConfig c, int layerIndex, Generator g) {
            heads = c.heads();
            headDim = c.headDim();
            query = child("query", linear(c, c.dim(), c.dim()));
            key = child("key", linear(c, c.dim(), c.dim()));
            value = child("value", linear(c, c.dim(), c.dim()));
            kernel = c.attentionKind().create(kernelConfig(c), layerIndex, g);
            if (kernel instanceof Module m) {
                child("kernel", m);
            }
        }

        /** x (B, T, C) → (B, T, C), every query seeing every key the mask allows (both directions). */
        Variable forward(Variable x, AttentionMask mask) {
            int b = x.size(0);
            int t = x.size(1);
            Variable q = query.forward(x).reshape(b, t, heads, headDim).transpose(1, 2); // (B, NH, T, HS)
            Variable k = key.forward(x).reshape(b, t, heads, headDim).transpose(1, 2); // (B, NH, T, HS)
            Variable v = value.forward(x).reshape(b, t, heads, headDim).transpose(1, 2); // (B, NH, T, HS)
            return kernel.attend(q, k, v, mask).transpose(1, 2).reshape(b, t, heads * headDim); // (B, T, C)
        }
    }

    /**
     * A projection followed by dropout, the residual and LayerNorm ({@code attention.output} and {@code output});
     * {@code in} 0 for no projection (after the conditional FFN, whose branches project back to C themselves).
     */
    static final class AddNorm extends Module {
        private final Linear dense;
        private final LayerNorm norm;
        private final Dropout drop;

        AddNorm(ModelConfig c, Generator g, int in) {
            dense = in > 0 ? child("dense", linear(c, in, c.dim())) : null;
            norm = child("LayerNorm", new LayerNorm(c.dim(), c.normEps(), true, true, c.dtype()));
            drop = child("dropout", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
        }

        Variable forward(Variable h, Variable residual) {
            return norm.forward(drop.forward(dense != null ? dense.forward(h) : h).add(residual)); // (B, T, C)
        }
    }

    /** {@code attention}: self-attention then its add-and-norm. */
    static final class Attention extends Module {
        private final SelfAttention self;
        private final AddNorm output;

        Attention(ModelConfig c, int layerIndex, Generator g) {
            self = child("self", new SelfAttention(c, layerIndex, g));
            output = child("output", new AddNorm(c, g, c.dim()));
        }

        Variable forward(Variable x, AttentionMask mask) {
            return output.forward(self.forward(x, mask), x);
        }
    }

    /** {@code intermediate}: dense C → FF and the activation. */
    static final class Intermediate extends Module {
        private final Linear dense;
        private final Activation act;

        Intermediate(ModelConfig c) {
            dense = child("dense", linear(c, c.dim(), c.ffnHidden()));
            act = c.activation();
        }

        Variable forward(Variable x) {
            return act.apply(dense.forward(x)); // (B, T, FF)
        }
    }

    /**
     * One post-LN layer {@code encoder.layer.N}. With ffn CONDITIONAL (B24, CoLT5) the MLP
     * ({@code intermediate.dense}, {@code output.dense}) becomes {@code conditional_ffn}: light and heavy
     * MLPs of the same activation and a router, followed by {@code output}'s dropout, residual and LayerNorm.
     */
    static final class Layer extends Module {
        private final Attention attention; // null when a token mixer replaces attention
        private final TokenMixer mixer; // issue 17: null for attention
        private final AddNorm mixerOutput;
        private final Intermediate intermediate;
        private final ConditionalFeedForward conditional;
        private final AddNorm output;

        Layer(ModelConfig c, int layerIndex, Generator g) {
            mixer = c.mixer() == null ? null : (TokenMixer) child("mixer", c.mixer().create(c.dim(), c.dtype(), g));
            mixerOutput = mixer == null ? null : child("mixer_output", new AddNorm(c, g, 0)); // LN(x + drop(mixer(x))), as FNet
            attention = mixer != null ? null : child("attention", new Attention(c, layerIndex, g));
            if (c.ffnKind().routed()) {
                intermediate = null;
                conditional = child("conditional_ffn", new ConditionalFeedForward(new FeedForward.Config(c.dim(), c.ffnHidden(),
                        FeedForward.Kind.MLP, c.activation(), true, c.dtype()), (ConditionalFeedForward.Options) c.ffnOptions(), g));
                output = child("output", new AddNorm(c, g, 0));
            } else {
                intermediate = child("intermediate", new Intermediate(c));
                conditional = null;
                output = child("output", new AddNorm(c, g, c.ffnHidden()));
            }
        }

        Variable forward(Variable x, AttentionMask mask) {
            Variable a = mixer != null ? mixerOutput.forward(mixer.forward(x, mask, null), x) : attention.forward(x, mask); // (B, T, C)
            return output.forward(conditional != null ? conditional.forward(a) : intermediate.forward(a), a); // (B, T, C)
        }
    }

    /** {@code encoder}: the layers. */
    static final class Encoder extends Module {
        private final ModuleList<Layer> layer;

        Encoder(ModelConfig c, Generator g) {
            layer = child("layer", new ModuleList<>());
            for (int l = 0; l < c.layers(); l++) {
                layer.add(new Layer(c, l, g));
            }
        }

        Variable forward(Variable x, AttentionMask mask) {
            for (Layer l : layer) {
                x = l.forward(x, mask);
            }
            return x;
        }
    }

    /**
     * Hugging Face's {@code BertModel} without the pooler ({@code ElectraModel} has the same
     * names): ids, token types (null for all zeros) and a non-causal mask → hidden states (B, T, C).
     */
    public static final class Body extends Module {
        private final String who;
        private final ModelConfig config;
        private final Embeddings embeddings;
        private final Encoder encoder;

        /** {@code who} names the model in errors. */
        public Body(String who, ModelConfig c, Generator g) {
            this.who = who;
            config = c;
            embeddings = child("embeddings", new Embeddings(c, g));
            encoder = child("encoder", new Encoder(c, g));
        }

        public Variable forward(Tensor ids, Tensor tokenTypes, AttentionMask mask) {
            Models.checkInputs(who, config, ids, null);
            if (mask != null && mask.causal()) {
                throw new IllegalArgumentException(who + ": an encoder attends both ways; got a causal mask (pass a non-causal one or null)");
            }
            if (ids.size(1) > config.contextLength()) {
                throw new IllegalArgumentException(who + ": " + ids.size(1) + " positions exceed max_position_embeddings "
                        + config.contextLength());
            }
            Tensor types = tokenTypes != null ? tokenTypes : Tensor.zeros(ids.device(), DType.I64, ids.size(0), ids.size(1)); // on the ids' device
            if (!java.util.Arrays.equals(types.shape(), ids.shape())) {
                throw new IllegalArgumentException(who + ": token types " + java.util.Arrays.toString(types.shape()) + " do not match ids "
                        + java.util.Arrays.toString(ids.shape()));
            }
            return encoder.forward(embeddings.forward(ids, types), mask == null ? AttentionMask.NONE : mask); // (B, T, C)
        }

        TokenEmbedding wordEmbeddings() {
            return embeddings.word;
        }
    }

    /** {@code cls.predictions.transform}: dense, activation, LayerNorm. */
    static final class Transform extends Module {
        private final Linear dense;
        private final Activation act;
        private final LayerNorm norm;

        Transform(ModelConfig c) {
            dense = child("dense", linear(c, c.dim(), c.dim()));
            act = c.activation();
            norm = child("LayerNorm", new LayerNorm(c.dim(), c.normEps(), true, true, c.dtype()));
        }

        Variable forward(Variable x) {
            return norm.forward(act.apply(dense.forward(x))); // (B, T, C)
        }
    }

    /** {@code cls.predictions}: the transform, then the decoder tied to the word table plus {@code bias}. */
    static final class Predictions extends Module {
        private final Transform transform;
        private final LmHead decoder;
        private final Variable bias;

        Predictions(ModelConfig c, TokenEmbedding word, Generator g) {
            transform = child("transform", new Transform(c));
            decoder = child("decoder", new LmHead(word, g));
            bias = parameter("bias", Tensor.zeros(c.dtype(), c.vocabSize()));
        }

        Variable forward(Variable x) {
            return decoder.forward(transform.forward(x)).add(bias); // (B, T, V)
        }
    }

    /** {@code cls}: the pre-training heads; here only the MLM predictions. */
    static final class Cls extends Module {
        private final Predictions predictions;

        Cls(ModelConfig c, TokenEmbedding word, Generator g) {
            predictions = child("predictions", new Predictions(c, word, g));
        }
    }

    private final ModelConfig config;
    private final Body bert;
    private final Predictions predictions;

    /** Builds a BERT from {@code c} (architecture BERT), initialised from {@code g} as Hugging Face's {@code _init_weights}. */
    public Bert(ModelConfig c, Generator g) {
        if (c.architecture() != ModelConfig.Architecture.BERT) {
            throw new IllegalArgumentException("Bert: config is for architecture " + c.architecture());
        }
        config = c;
        bert = child("bert", new Body("Bert", c, g));
        predictions = child("cls", new Cls(c, bert.wordEmbeddings(), g)).predictions;
        Models.initialise(this, c, g);
    }

    /** ids, token types (null for zeros), mask (null, or non-causal, e.g. {@link #paddingMask}) → MLM logits (B, T, V). */
    public Variable forward(Tensor ids, Tensor tokenTypes, AttentionMask mask) {
        return predictions.forward(bert.forward(ids, tokenTypes, mask)); // (B, T, V)
    }

    /** As {@link #forward(Tensor, Tensor, AttentionMask)} with token type 0; there is no cache for an encoder. */
    @Override
    public Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches) {
        if (caches != null) {
            throw new IllegalArgumentException("Bert: an encoder has no KV cache (it is not a decoder)");
        }
        return forward(ids, null, mask);
    }

    @Override
    public List<KvCache> newCaches(int batch, int maxT) {
        throw new UnsupportedOperationException("Bert: an encoder has no KV cache; it cannot generate text token by token");
    }

    @Override
    public Module module() {
        return this;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** The id of {@code [MASK]}: the last of the vocabulary, one past the tokenizer's own ids. */
    public static int maskTokenId(ModelConfig c) {
        return c.vocabSize() - 1;
    }

    /**
     * Hugging Face's {@code attention_mask} (B, T), 1 for real tokens and 0 for padding, as a
     * non-causal mask in which real positions see only real keys (see the class comment).
     */
    public static AttentionMask paddingMask(Tensor attentionMask) {
        if (attentionMask == null || attentionMask.rank() != 2 || attentionMask.dtype().isFloating()) {
            throw new IllegalArgumentException("Bert.paddingMask: attention_mask must be an integer (B, T) tensor of 0/1");
        }
        return new AttentionMask(false, attentionMask.to(DType.I64), 0);
    }

    /**
     * Refuses {@code c}'s attention kind when it cannot attend both ways, in one line naming it: a
     * kernel is probed once with a non-causal mask, so a new bidirectional kind needs no list here.
     * The packed CLI run calls it, so it also refuses ffn CONDITIONAL, whose routing makes the
     * documents of a row compete for the heavy branch.
     */
    public static void checkAttention(ModelConfig c) {
        if (c.ffnKind().routed()) {
            throw new IllegalArgumentException("bert: ffn conditional routes tokens across the whole row, so it cannot keep the documents"
                    + " of packed training data apart; train it through the API on one document per row");
        }
        if (c.mixer() != null) {
            return; // a bidirectional mixer transforms each document run alone (ModelConfig refused causal ones)
        }
        AttentionKind kind = c.attentionKind();
        AttentionKernel k = kind.create(kernelConfig(c), 1, new Generator(0)); // layer 1: per-layer kinds show their odd layers
        if (k instanceof RealFormerAttention) {
            return; // needs its layer stack to run; it attends both ways
        }
        Variable x = Variable.constant(Tensor.zeros(c.dtype(), 1, c.heads(), 2, c.headDim()));
        try {
            k.attend(x, x, x, AttentionMask.NONE);
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("bert: --attention " + kind.configName() + " is causal-only; an encoder"
                    + " needs a kind that attends both ways (e.g. softmax)", e);
        }
        try {
            k.attend(x, x, x, new AttentionMask(false, Tensor.of(new long[] {0, 1}, 1, 2), 0));
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            throw new IllegalArgumentException("bert: --attention " + kind.configName() + " cannot keep the documents of packed training"
                    + " data apart (no document mask); train it through the API on one document per row", e);
        }
    }

    // ---------------------------------------------------------------- Hugging Face layout

    /**
     * A Hugging Face {@code BertForMaskedLM} state dict → ours: the tied copies
     * ({@code cls.predictions.decoder.weight/bias}), the pooler (unused by the MLM model) and the
     * {@code position_ids}/{@code token_type_ids} buffers are dropped; everything else is already
     * named and laid out as here (nn.Linear weights are (out, in) in both).
     */
    public static Map<String, Tensor> fromHuggingFaceLayout(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((k, t) -> {
            if (!k.startsWith("cls.predictions.decoder.") && !k.startsWith("bert.pooler.") && !k.endsWith("embeddings.position_ids")
                    && !k.endsWith("embeddings.token_type_ids")) {
                out.put(k, t);
            }
        });
        return out;
    }

    /** Loads a Hugging Face BERT state dict (strict: every parameter must be present). */
    public void loadHuggingFace(Map<String, Tensor> hf) {
        loadStateDict(fromHuggingFaceLayout(hf), true);
    }

    // ---------------------------------------------------------------- helpers shared with Electra

    static Linear linear(ModelConfig c, int in, int out) {
        return new Linear(in, out, true, Tensor.zeros(c.dtype(), out, in)); // Models.initialise draws the weights
    }

    static MultiHeadAttention.Config kernelConfig(ModelConfig c) {
        return new MultiHeadAttention.Config(c.dim(), c.heads(), c.heads(), c.headDim(), true, null, 10000, c.contextLength(), null,
                c.normEps(), c.attentionSoftCap(), c.dropout(), c.dtype(), c.attentionKind(), c.attentionOptions());
    }
}
