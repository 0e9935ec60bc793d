package dev.tessera.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.nn.block.Define;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.ConditionalFeedForward;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.tensor.DType;
import java.nio.file.Path;

/**
 * Everything that fixes a decoder-only language model's shape and recipe, validated here so a
 * model constructor never sees a bad combination. Dimension legend used by the model files: B
 * batch, T time (≤ contextLength), C channels (= dim), NH heads, HS head size (headDim), V vocab.
 *
 * <p>Hugging Face {@code config.json} reading and writing is in {@link HfConfig}; knobs Hugging
 * Face has no field for go under a {@code "tessera"} object so that a round trip is lossless.
 *
 * @param contextLength the maximum number of positions (learned position table size, RoPE table)
 * @param headDim HS; usually dim / heads, but Llama-family configs may set it apart ({@code head_dim})
 * @param ffnHidden the feed-forward hidden width (gated kinds: the width of gate/up projections)
 * @param normPlacement A1: PRE (Llama, GPT-2), POST (with {@code deepNorm}, D1) or SANDWICH (Gemma 2)
 * @param ffnKind A5: MLP (GPT-2) or a gated unit (SWIGLU for Llama); B24: CONDITIONAL (BERT only, with ffnOptions); E16: MOE
 *     E1: PKM and E6: DELIGHT (decoders, with ffnOptions); E12: RWKV, the channel mix (decoders; a per-layer token-shift state)
 * @param activation A4: the MLP's activation, or the gate's activation of a gated unit
 * @param positional C1/A7: how positions enter the model
 * @param qkNorm A11: a per-head norm (of {@code normKind}) on queries and keys
 * @param attentionSoftCap A12: c·tanh(s/c) on attention scores (0 for none; softmax kernel only)
 * @param finalSoftCap A12: c·tanh(z/c) on the output logits (0 for none)
 * @param zLoss A10: coefficient of the z-loss (log Z)² that the trainer adds (0 for none)
 * @param deepNorm D1: post-norm residuals x ← N(α·x + f(x)) with the β-scaled init of DeepNet
 * @param dropout A14: embedding, residual and attention-probability dropout
 * @param initStd std of the N(0, σ²) init of every matrix (Hugging Face's {@code initializer_range})
 * @param attentionOptions the attention kind's own options record ({@link AttentionKind#optionsType()}), e.g. the
 *     window W of SLIDING_WINDOW (B5; Hugging Face's {@code sliding_window}) or the k of TOPK (B9); config.json
 *     {@code tessera.attention_options}, {@code --attention-option name=value} on the command line
 * @param ffnOptions the options record of a kind that is its own layer ({@link FeedForwardKinds#optionsType}), null for the
 *     dense kinds: B24's light branch width and routed token count of CONDITIONAL (the heavy branch takes ffnHidden), E16's
 *     experts, top-k, capacity and loss weights of MOE; config.json {@code tessera.ffn_options}, {@code --ffn-option} on the command line
 * @param hourglass B27: the layers split as pre@1, shortened@k, post@1 with the middle ones on a sequence shortened k times
 *     ({@link Hourglass}), or null for a plain stack; config.json {@code tessera.hourglass}, {@code --hourglass} on the command line
 * @param mixer issue 17: a token mixer ({@link MixerKind}, e.g. E11 LRU) in place of attention in every layer of a Llama or GPT-2, decoding
 *     with a recurrent state in place of the KV cache, or null for attention; config.json {@code tessera.mixer} and
 *     {@code tessera.mixer_options}, {@code --mixer lru --mixer-option r_min=0.9} on the command line; a bidirectional mixer
 *     ({@link MixerKind.Spec#causal()} false, e.g. E7 FNet) replaces attention in every layer of BERT instead
 * @param embedding E6: DeFINE's deep factorized token embedding ({@link Define}) in place of the token table of a Llama or GPT-2,
 *     or null for the table; config.json {@code tessera.embedding} and {@code tessera.embedding_options}, {@code --embedding define
 *     --embedding-option dim=64} on the command line
 */
public record ModelConfig(Architecture architecture, int vocabSize, int contextLength, int layers, int dim, int heads, int kvHeads,
        int headDim, int ffnHidden, NormKind normKind, double normEps, NormPlacement normPlacement, FeedForward.Kind ffnKind,
        Activation activation, AttentionKind attentionKind, Positional positional, double ropeTheta, boolean tieEmbeddings,
        boolean bias, boolean qkNorm, double attentionSoftCap, double finalSoftCap, double zLoss, boolean deepNorm, double dropout,
        double initStd, DType dtype, Record attentionOptions, Record ffnOptions, Hourglass.Options hourglass,
        MixerKind.Spec mixer, Define.Options embedding) {

    /** The model families this package builds; each is one file. BERT is the encoder (I3), trained by masked-LM. */
    public enum Architecture { LLAMA, GPT2, BERT }

    /** How positions enter the model (A7, C1, C4). ALiBi is an attention kind and needs NONE here. */
    public enum Positional {
        /** RoPE pairing dims (i, i + HS/2), Hugging Face's rotate_half. */
        ROPE_HALF_SPLIT,
        /** RoPE pairing dims (2i, 2i + 1), Meta's original Llama code and the reference script. */
        ROPE_INTERLEAVED,
        /** A trained (contextLength, C) table added to the token embeddings (GPT-2's wpe). */
        LEARNED,
        /** Fixed sin/cos table added to the token embeddings (Vaswani et al. 2017). */
        SINUSOIDAL,
        /** No positional signal besides the causal mask (or ALiBi's biases). */
        NONE;

        public boolean rope() {
            return this == ROPE_HALF_SPLIT || this == ROPE_INTERLEAVED;
        }
    }

    public ModelConfig {
        require(architecture != null && normKind != null && normPlacement != null && ffnKind != null && activation != null
                && attentionKind != null && positional != null && dtype != null && attentionOptions != null,
                "architecture, normKind, normPlacement, ffnKind, activation, attentionKind, attentionOptions, positional and dtype are required");
        require(vocabSize > 0 && contextLength > 0 && layers > 0 && dim > 0 && heads > 0 && kvHeads > 0 && headDim > 0 && ffnHidden > 0,
                "sizes must be positive, got vocabSize=" + vocabSize + " contextLength=" + contextLength + " layers=" + layers + " dim="
                        + dim + " heads=" + heads + " kvHeads=" + kvHeads + " headDim=" + headDim + " ffnHidden=" + ffnHidden);
        require(heads % kvHeads == 0, "kvHeads " + kvHeads + " must divide heads " + heads);
        require(dtype.isFloating(), "dtype must be floating, got " + dtype);
        require(normEps >= 0 && normEps < 1, "normEps must be in [0, 1), got " + normEps);
        require(!positional.rope() || (headDim % 2 == 0 && ropeTheta > 1), "RoPE needs an even headDim and ropeTheta > 1, got headDim="
                + headDim + " ropeTheta=" + ropeTheta);
        require(attentionKind != AttentionKind.ALIBI || positional == Positional.NONE,
                "ALiBi attention carries positions itself; use positional NONE, got " + positional);
        require(attentionSoftCap >= 0 && finalSoftCap >= 0 && zLoss >= 0, "attentionSoftCap, finalSoftCap and zLoss must be >= 0, got "
                + attentionSoftCap + ", " + finalSoftCap + ", " + zLoss);
        require(attentionSoftCap == 0 || attentionKind == AttentionKind.SOFTMAX,
                "attention soft-capping needs the SOFTMAX attention kind, got " + attentionKind);
        require(!deepNorm || normPlacement == NormPlacement.POST, "deepNorm is a post-norm recipe; set normPlacement POST, got "
                + normPlacement);
        require(dropout >= 0 && dropout < 1, "dropout must be in [0, 1), got " + dropout);
        require(architecture == Architecture.BERT || attentionKind.causal(), "attention " + attentionKind.configName() + " is bidirectional only; "
                + architecture.name().toLowerCase(java.util.Locale.ROOT) + " is a causal decoder");
        require(architecture == Architecture.BERT || !ffnKind.routed(), "ffn " + ffnKind.name().toLowerCase(java.util.Locale.ROOT)
                + " is bidirectional only; " + architecture.name().toLowerCase(java.util.Locale.ROOT) + " is a causal decoder");
        Class<? extends Record> ffnOptionsType = FeedForwardKinds.optionsType(ffnKind);
        require(ffnKind.hasOptions() == (ffnOptions != null), ffnKind.hasOptions() ? "ffn " + FeedForwardKinds.configName(ffnKind)
                + " needs ffnOptions (" + dev.tessera.nn.attention.KernelOptions.names(ffnOptionsType) + ")"
                : "ffnOptions are for ffn conditional, moe, pkm or delight, got ffn " + ffnKind.name().toLowerCase(java.util.Locale.ROOT));
        require(ffnOptions == null || ffnOptions.getClass() == ffnOptionsType, "ffn " + FeedForwardKinds.configName(ffnKind) + " takes "
                + (ffnOptionsType == null ? "no" : ffnOptionsType.getSimpleName()) + " options, got " + ffnOptions);
        require(architecture != Architecture.BERT || attentionKind != AttentionKind.PERCEIVER_AR,
                "attention perceiver_ar predicts the last positions of a causal decoder; bert is an encoder");
        require(attentionOptions.getClass() == attentionKind.optionsType(), "attention " + attentionKind.configName() + " takes "
                + attentionKind.optionsType().getSimpleName() + " options, got " + attentionOptions);
        require(initStd > 0 && Double.isFinite(initStd), "initStd must be positive, got " + initStd);
        if (hourglass != null) {
            require(architecture != Architecture.BERT, "hourglass " + hourglass + " is for the causal decoders, not bert");
            require(hourglass.layers() == layers, "hourglass " + hourglass + " has " + hourglass.layers() + " layers, the model " + layers);
            require(hourglass.preLayers() + hourglass.postLayers() > 0, "hourglass " + hourglass + " needs a full-length (pre or post) layer,"
                    + " whose cache gives the decoding position");
            require(attentionKind != AttentionKind.REALFORMER, "hourglass does not combine with realformer (its scores cannot pass between"
                    + " full-length and shortened layers)");
            require(attentionKind != AttentionKind.PERCEIVER_AR, "hourglass does not combine with perceiver_ar (both reshape the layer stack)");
        }
        require(ffnKind != FeedForward.Kind.RWKV || hourglass == null && attentionKind != AttentionKind.PERCEIVER_AR, "ffn rwkv (a token"
                + " shift) does not combine with hourglass or perceiver_ar, whose layers see other sequences than the tokens");
        if (mixer != null) {
            if (architecture == Architecture.BERT) { // issue 17: a bidirectional mixer (fnet, or causal=false) replaces bert's attention
                require(!mixer.causal(), "mixer " + mixer.kind().configName() + " replaces attention in the causal decoders, not bert"
                        + (mixer.options() instanceof MixerKind.Directional ? " (set causal=false for its bidirectional form)" : ""));
            } else {
                require(mixer.causal(), "mixer " + mixer + " mixes the whole sequence both ways; "
                        + architecture.name().toLowerCase(java.util.Locale.ROOT) + " is a causal decoder (train it in bert)");
            }
            require(attentionKind == AttentionKind.SOFTMAX && hourglass == null, "mixer " + mixer.kind().configName()
                    + " replaces attention in every layer; it does not combine with attention " + attentionKind.configName()
                    + (hourglass == null ? "" : " or hourglass"));
        }
        if (embedding != null) { // E6
            require(architecture != Architecture.BERT, "embedding " + Define.NAME + " is for the causal decoders, not bert");
            require(embedding.dimFor(dim) % embedding.maxGroups() == 0, "embedding " + Define.NAME + ": max_groups "
                    + embedding.maxGroups() + " must divide dim " + embedding.dimFor(dim));
        }
        if (architecture == Architecture.GPT2) {
            require(kvHeads == heads, "GPT2 has no grouped-query attention: kvHeads " + kvHeads + " != heads " + heads);
            require(heads * headDim == dim, "GPT2 needs heads·headDim == dim, got " + heads + "·" + headDim + " != " + dim);
            require(!positional.rope(), "GPT2 does not support " + positional + "; use LEARNED, SINUSOIDAL or NONE (or architecture LLAMA)");
            require(ffnKind == FeedForward.Kind.MLP || ffnKind.hasOptions() && !ffnKind.routed(), "GPT2's mlp is c_fc → act → c_proj;"
                    + " ffnKind must be MLP (or MOE, PKM, DELIGHT), got " + ffnKind);
            require(normPlacement != NormPlacement.SANDWICH, "GPT2 supports normPlacement PRE or POST, got SANDWICH");
        }
        if (architecture == Architecture.BERT) {
            require(kvHeads == heads && heads * headDim == dim, "BERT needs kvHeads == heads and heads·headDim == dim, got kvHeads "
                    + kvHeads + ", " + heads + "·" + headDim + " vs dim " + dim);
            require(normKind == NormKind.LAYER_NORM && normPlacement == NormPlacement.POST && !deepNorm
                    && (ffnKind == FeedForward.Kind.MLP || ffnKind == FeedForward.Kind.CONDITIONAL) && positional == Positional.LEARNED && tieEmbeddings && bias && !qkNorm && finalSoftCap == 0,
                    "BERT is post-LayerNorm with a plain (or conditional) MLP, learned positions, biases and the MLM decoder tied to the word embeddings");
        }
    }

    /** With the attention kind's default options (an error for a kind with a required option). */
    public ModelConfig(Architecture architecture, int vocabSize, int contextLength, int layers, int dim, int heads, int kvHeads,
            int headDim, int ffnHidden, NormKind normKind, double normEps, NormPlacement normPlacement, FeedForward.Kind ffnKind,
            Activation activation, AttentionKind attentionKind, Positional positional, double ropeTheta, boolean tieEmbeddings,
            boolean bias, boolean qkNorm, double attentionSoftCap, double finalSoftCap, double zLoss, boolean deepNorm, double dropout,
            double initStd, DType dtype) {
        this(architecture, vocabSize, contextLength, layers, dim, heads, kvHeads, headDim, ffnHidden, normKind, normEps, normPlacement,
                ffnKind, activation, attentionKind, positional, ropeTheta, tieEmbeddings, bias, qkNorm, attentionSoftCap, finalSoftCap,
                zLoss, deepNorm, dropout, initStd, dtype, attentionKind.defaultOptions());
    }

    /** A plain stack (no hourglass). */
    public ModelConfig(Architecture architecture, int vocabSize, int contextLength, int layers, int dim, int heads, int kvHeads,
            int headDim, int ffnHidden, NormKind normKind, double normEps, NormPlacement normPlacement, FeedForward.Kind ffnKind,
            Activation activation, AttentionKind attentionKind, Positional positional, double ropeTheta, boolean tieEmbeddings,
            boolean bias, boolean qkNorm, double attentionSoftCap, double finalSoftCap, double zLoss, boolean deepNorm, double dropout,
            double initStd, DType dtype, Record attentionOptions) {
        this(architecture, vocabSize, contextLength, layers, dim, heads, kvHeads, headDim, ffnHidden, normKind, normEps, normPlacement,
                ffnKind, activation, attentionKind, positional, ropeTheta, tieEmbeddings, bias, qkNorm, attentionSoftCap, finalSoftCap,
                zLoss, deepNorm, dropout, initStd, dtype, attentionOptions, null, null, null, null);
    }

    /**
     * Our defaults for ffn CONDITIONAL (not the paper's, whose sizes are T5's): a light branch a quarter of
     * the heavy width, and 16 routed tokens per sequence, as {@code --attention conditional}'s default.
     */
    public static ConditionalFeedForward.Options defaultFfnOptions(int ffnHidden) {
        return new ConditionalFeedForward.Options(Math.max(1, ffnHidden / 4), 16);
    }

    /** B5: the sliding window W (a query sees itself and the W − 1 keys before it), or 0 for any other kind. */
    public int attentionWindow() {
        return attentionOptions instanceof SlidingWindowAttention.Options w ? w.window() : 0;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("ModelConfig: " + message);
        }
    }

    /**
     * A Llama (Touvron et al. 2023): RMSNorm (ε = 1e-5) pre-norm, half-split RoPE with θ = 10000,
     * SwiGLU, no biases, untied head, softmax attention, N(0, 0.02²) init, F32.
     */
    public static ModelConfig llama(int vocab, int contextLength, int layers, int dim, int heads, int kvHeads, int ffnHidden) {
        return new ModelConfig(Architecture.LLAMA, vocab, contextLength, layers, dim, heads, kvHeads, dim / Math.max(1, heads), ffnHidden,
                NormKind.RMS_NORM, 1e-5, NormPlacement.PRE, FeedForward.Kind.SWIGLU, Activation.SILU, AttentionKind.SOFTMAX,
                Positional.ROPE_HALF_SPLIT, 10000, false, false, false, 0, 0, 0, false, 0, 0.02, DType.F32);
    }

    /**
     * A GPT-2 (Radford et al. 2019): LayerNorm (ε = 1e-5) pre-norm, learned positions, a 4·C GELU
     * (tanh) MLP, biases everywhere, head tied to wte, N(0, 0.02²) init, F32.
     */
    public static ModelConfig gpt2(int vocab, int contextLength, int layers, int dim, int heads) {
        return new ModelConfig(Architecture.GPT2, vocab, contextLength, layers, dim, heads, heads, dim / Math.max(1, heads), 4 * dim,
                NormKind.LAYER_NORM, 1e-5, NormPlacement.PRE, FeedForward.Kind.MLP, Activation.GELU_TANH, AttentionKind.SOFTMAX,
                Positional.LEARNED, 10000, true, true, false, 0, 0, 0, false, 0, 0.02, DType.F32);
    }

    /**
     * A BERT encoder (Devlin et al. 2019) as Hugging Face's {@code BertConfig}: post-LayerNorm
     * (ε = 1e-12), learned positions, exact (erf) GELU, biases, MLM decoder tied to the word
     * embeddings, N(0, 0.02²) init, F32, no dropout (BERT's 0.1 is a knob: {@code dropout}).
     */
    public static ModelConfig bert(int vocab, int contextLength, int layers, int dim, int heads, int ffnHidden) {
        return new ModelConfig(Architecture.BERT, vocab, contextLength, layers, dim, heads, heads, dim / Math.max(1, heads), ffnHidden,
                NormKind.LAYER_NORM, 1e-12, NormPlacement.POST, FeedForward.Kind.MLP, Activation.GELU_ERF, AttentionKind.SOFTMAX,
                Positional.LEARNED, 10000, true, true, false, 0, 0, 0, false, 0, 0.02, DType.F32);
    }

    /** OpenAI's GPT-2 small (124M): V = 50257, T = 1024, 12 layers, C = 768, 12 heads. */
    public static ModelConfig openaiGpt2() {
        return gpt2(50257, 1024, 12, 768, 12);
    }

    /** The reference script's tiny preset ({@link Preset#TINY}). */
    public static ModelConfig tiny() {
        return Preset.TINY.config();
    }

    /** The reference script's small preset ({@link Preset#SMALL}). */
    public static ModelConfig small() {
        return Preset.SMALL.config();
    }

    /** The reference script's gpt2 preset ({@link Preset#GPT2}): a GPT-2-sized Llama. */
    public static ModelConfig gpt2() {
        return Preset.GPT2.config();
    }

    /** The Hugging Face config.json object (with a {@code "tessera"} object for our extra knobs). */
    public ObjectNode toHuggingFace() {
        return HfConfig.write(this);
    }

    /** {@link #toHuggingFace()} as indented JSON text. */
    public String toJson() {
        return HfConfig.text(toHuggingFace());
    }

    /** Reads a Hugging Face config.json object (LlamaForCausalLM or GPT2LMHeadModel). */
    public static ModelConfig fromHuggingFace(JsonNode json) {
        return HfConfig.read(json);
    }

    /** Reads a Hugging Face config.json file. */
    public static ModelConfig fromHuggingFace(Path configJson) {
        return HfConfig.read(HfConfig.parse(configJson));
    }

    /** Parses config.json text. */
    public static ModelConfig fromJson(String text) {
        return HfConfig.read(HfConfig.parse(text));
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A mutable copy for changing a few knobs: {@code cfg.toBuilder().qkNorm(true).build()}. */
    public static final class Builder {
        private Architecture architecture;
        private int vocabSize, contextLength, layers, dim, heads, kvHeads, headDim, ffnHidden;
        private NormKind normKind;
        private double normEps;
        private NormPlacement normPlacement;
        private FeedForward.Kind ffnKind;
        private Activation activation;
        private AttentionKind attentionKind;
        private Positional positional;
        private double ropeTheta;
        private boolean tieEmbeddings, bias, qkNorm, deepNorm;
        private double attentionSoftCap, finalSoftCap, zLoss, dropout, initStd;
        private DType dtype;
        private Record attentionOptions;
        private Hourglass.Options hourglass;
        private Record ffnOptions;
        private MixerKind.Spec mixer;
        private Define.Options embedding;

        private Builder(ModelConfig c) {
            architecture = c.architecture; vocabSize = c.vocabSize; contextLength = c.contextLength; layers = c.layers; dim = c.dim;
            heads = c.heads; kvHeads = c.kvHeads; headDim = c.headDim; ffnHidden = c.ffnHidden; normKind = c.normKind;
            normEps = c.normEps; normPlacement = c.normPlacement; ffnKind = c.ffnKind; activation = c.activation;
            attentionKind = c.attentionKind; positional = c.positional; ropeTheta = c.ropeTheta; tieEmbeddings = c.tieEmbeddings;
            bias = c.bias; qkNorm = c.qkNorm; attentionSoftCap = c.attentionSoftCap; finalSoftCap = c.finalSoftCap; zLoss = c.zLoss;
            deepNorm = c.deepNorm; dropout = c.dropout; initStd = c.initStd; dtype = c.dtype;
            attentionOptions = c.attentionOptions; ffnOptions = c.ffnOptions;
            hourglass = c.hourglass; mixer = c.mixer; embedding = c.embedding;
        }

        public Builder architecture(Architecture v) { architecture = v; return this; }
        public Builder vocabSize(int v) { vocabSize = v; return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        public Builder layers(int v) { layers = v; return this; }
        /** Sets dim and keeps headDim = dim / heads. */
        public Builder dim(int v) { dim = v; headDim = v / Math.max(1, heads); return this; }
        /** Sets heads (and kvHeads when they were equal) and keeps headDim = dim / heads. */
        public Builder heads(int v) { kvHeads = kvHeads == heads ? v : kvHeads; heads = v; headDim = dim / Math.max(1, v); return this; }
        public Builder kvHeads(int v) { kvHeads = v; return this; }
        public Builder headDim(int v) { headDim = v; return this; }
        public Builder ffnHidden(int v) { ffnHidden = v; return this; }
        public Builder normKind(NormKind v) { normKind = v; return this; }
        public Builder normEps(double v) { normEps = v; return this; }
        public Builder normPlacement(NormPlacement v) { normPlacement = v; return this; }
        /** Another FFN kind; its options are kept when they are the new kind's type (defaults at build when none were set), else dropped. */
        public Builder ffnKind(FeedForward.Kind v) {
            ffnOptions = v != null && ffnOptions != null && ffnOptions.getClass() == FeedForwardKinds.optionsType(v) ? ffnOptions : null;
            ffnKind = v;
            return this;
        }
        /** The FFN kind's options record: B24's {@link ConditionalFeedForward.Options}, E16's MixtureOfExperts.Options. */
        public Builder ffnOptions(Record v) { ffnOptions = v; return this; }
        public Builder activation(Activation v) { activation = v; return this; }
        /** Another attention kind; its options are kept if they are the new kind's type, else reset to its defaults. */
        public Builder attentionKind(AttentionKind v) {
            attentionOptions = attentionOptions != null && v != null && attentionOptions.getClass() == v.optionsType() ? attentionOptions : null;
            attentionKind = v;
            return this;
        }
        /** The attention kind's options record, e.g. {@code new SlidingWindowAttention.Options(64)}. */
        public Builder attentionOptions(Record v) { attentionOptions = v; return this; }
        public Builder positional(Positional v) { positional = v; return this; }
        public Builder ropeTheta(double v) { ropeTheta = v; return this; }
        public Builder tieEmbeddings(boolean v) { tieEmbeddings = v; return this; }
        public Builder bias(boolean v) { bias = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder attentionSoftCap(double v) { attentionSoftCap = v; return this; }
        public Builder finalSoftCap(double v) { finalSoftCap = v; return this; }
        public Builder zLoss(double v) { zLoss = v; return this; }
        public Builder deepNorm(boolean v) { deepNorm = v; return this; }
        public Builder dropout(double v) { dropout = v; return this; }
        public Builder initStd(double v) { initStd = v; return this; }
        public Builder dtype(DType v) { dtype = v; return this; }
        /** B27: the hourglass split (pre + shortened + post must equal {@code layers}), or null for a plain stack. */
        public Builder hourglass(Hourglass.Options v) { hourglass = v; return this; }
        /** Issue 17: a token mixer in place of attention in every layer, or null for attention. */
        public Builder mixer(MixerKind.Spec v) { mixer = v; return this; }
        /** E6: DeFINE's factorized token embedding, or null for the token table. */
        public Builder embedding(Define.Options v) { embedding = v; return this; }

        public ModelConfig build() {
            Record options;
            try {
                options = attentionOptions != null || attentionKind == null ? attentionOptions : attentionKind.defaultOptions();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("ModelConfig: " + e.getMessage(), e);
            }
            return new ModelConfig(architecture, vocabSize, contextLength, layers, dim, heads, kvHeads, headDim, ffnHidden, normKind,
                    normEps, normPlacement, ffnKind, activation, attentionKind, positional, ropeTheta, tieEmbeddings, bias, qkNorm,
                    attentionSoftCap, finalSoftCap, zLoss, deepNorm, dropout, initStd, dtype, options, ffnOptions != null || ffnKind == null
                    || !ffnKind.hasOptions() ? ffnOptions : ffnKind.routed() ? defaultFfnOptions(ffnHidden)
                    : FeedForwardKinds.options(ffnKind, java.util.Map.of()), hourglass, mixer, embedding);
        }
    }
}
