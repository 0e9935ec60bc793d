package dev.tessera.models;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.models.ModelConfig.Architecture;
import dev.tessera.models.ModelConfig.Positional;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KernelOptions;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.nn.block.Define;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.ConditionalFeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@link ModelConfig} ↔ Hugging Face {@code config.json}, with the real field names of
 * {@code LlamaConfig} and {@code GPT2Config}. Missing optional fields take the transformers
 * defaults. Every knob Hugging Face cannot express (norm kind and placement, attention kind,
 * positional scheme, QK-norm, soft caps, z-loss, DeepNorm, ...) is written under {@code "tessera"},
 * which, when present, overrides what the Hugging Face fields imply. Errors are one line, naming
 * the field.
 */
final class HfConfig {
    private HfConfig() {}

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final String SUPPORTED = "LlamaForCausalLM (model_type llama), GPT2LMHeadModel (model_type gpt2), BertForMaskedLM"
            + " (model_type bert)";

    // ---------------------------------------------------------------- writing

    static ObjectNode write(ModelConfig c) {
        ObjectNode o = JSON.createObjectNode();
        if (c.architecture() == Architecture.LLAMA) {
            o.putArray("architectures").add("LlamaForCausalLM");
            o.put("model_type", "llama");
            o.put("vocab_size", c.vocabSize());
            o.put("hidden_size", c.dim());
            o.put("intermediate_size", c.ffnHidden());
            o.put("num_hidden_layers", c.layers());
            o.put("num_attention_heads", c.heads());
            o.put("num_key_value_heads", c.kvHeads());
            o.put("head_dim", c.headDim());
            o.put("max_position_embeddings", c.contextLength());
            o.put("rms_norm_eps", c.normEps());
            o.put("rope_theta", c.ropeTheta());
            o.putNull("rope_scaling");
            o.put("tie_word_embeddings", c.tieEmbeddings());
            o.put("attention_bias", c.bias());
            o.put("mlp_bias", c.bias());
            o.put("hidden_act", actName(c.activation(), c.architecture()));
            o.put("attention_dropout", c.dropout());
            o.put("initializer_range", c.initStd());
            if (c.attentionWindow() > 0) {
                o.put("sliding_window", c.attentionWindow()); // Mistral's field (B5)
            }
        } else if (c.architecture() == Architecture.BERT) {
            writeBert(c, o);
        } else {
            o.putArray("architectures").add("GPT2LMHeadModel");
            o.put("model_type", "gpt2");
            o.put("vocab_size", c.vocabSize());
            o.put("n_positions", c.contextLength());
            o.put("n_ctx", c.contextLength());
            o.put("n_embd", c.dim());
            o.put("n_layer", c.layers());
            o.put("n_head", c.heads());
            o.put("n_inner", c.ffnHidden());
            o.put("activation_function", actName(c.activation(), c.architecture()));
            o.put("layer_norm_epsilon", c.normEps());
            o.put("resid_pdrop", c.dropout());
            o.put("embd_pdrop", c.dropout());
            o.put("attn_pdrop", c.dropout());
            o.put("initializer_range", c.initStd());
            o.put("tie_word_embeddings", c.tieEmbeddings());
        }
        o.put("torch_dtype", c.dtype().torchName());
        ObjectNode t = o.putObject("tessera");
        t.put("norm_kind", lower(c.normKind()));
        t.put("norm_placement", lower(c.normPlacement()));
        t.put("ffn_kind", lower(c.ffnKind()));
        t.put("activation", lower(c.activation()));
        t.put("attention_kind", lower(c.attentionKind()));
        t.put("positional", lower(c.positional()));
        t.put("rope_theta", c.ropeTheta());
        t.put("bias", c.bias());
        t.put("qk_norm", c.qkNorm());
        t.put("attention_softcap", c.attentionSoftCap());
        t.put("final_softcap", c.finalSoftCap());
        t.put("z_loss", c.zLoss());
        t.put("deep_norm", c.deepNorm());
        t.put("dropout", c.dropout());
        Map<String, Object> options = KernelOptions.values(c.attentionOptions());
        if (!options.isEmpty()) {
            t.set("attention_options", JSON.valueToTree(options)); // the kind's own record, by name (no Hugging Face field)
        }
        if (c.hourglass() != null) {
            t.put("hourglass", c.hourglass().toString()); // B27, the paper's notation: pre@1,shortened@k,post@1/shortening/upsampling
        }
        if (c.mixer() != null) { // issue 17: a token mixer in place of attention, its options record by name
            t.put("mixer", c.mixer().kind().configName());
            t.set("mixer_options", JSON.valueToTree(KernelOptions.values(c.mixer().options())));
        }
        if (c.embedding() != null) { // E6: DeFINE's factorized token embedding, its options by name
            t.put("embedding", Define.NAME);
            t.set("embedding_options", JSON.valueToTree(KernelOptions.values(c.embedding())));
        }
        if (c.ffnOptions() != null) {
            t.set("ffn_options", JSON.valueToTree(KernelOptions.values(c.ffnOptions()))); // B24: light_hidden, routed; E16: experts, top_k, ...
        }
        return o;
    }

    /** BertConfig's fields; type_vocab_size is Bert's fixed 2 (segments A and B). */
    private static void writeBert(ModelConfig c, ObjectNode o) {
        o.putArray("architectures").add("BertForMaskedLM");
        o.put("model_type", "bert");
        o.put("vocab_size", c.vocabSize());
        o.put("hidden_size", c.dim());
        o.put("num_hidden_layers", c.layers());
        o.put("num_attention_heads", c.heads());
        o.put("intermediate_size", c.ffnHidden());
        o.put("hidden_act", actName(c.activation(), c.architecture()));
        o.put("max_position_embeddings", c.contextLength());
        o.put("type_vocab_size", Bert.TYPE_VOCAB_SIZE);
        o.put("layer_norm_eps", c.normEps());
        o.put("hidden_dropout_prob", c.dropout());
        o.put("attention_probs_dropout_prob", c.dropout());
        o.put("initializer_range", c.initStd());
        o.put("tie_word_embeddings", true);
    }

    static String text(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("config.json: cannot write JSON: " + oneLine(e.getOriginalMessage()));
        }
    }

    // ---------------------------------------------------------------- reading

    static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw new IllegalArgumentException("config.json: invalid JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column "
                    + at.getColumnNr()) + ": " + oneLine(e.getOriginalMessage()));
        }
    }

    static JsonNode parse(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("config.json: cannot read " + file + ": " + oneLine(String.valueOf(e.getMessage())));
        }
    }

    static ModelConfig read(JsonNode o) {
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("config.json: expected a JSON object, got " + (o == null ? "nothing" : o.getNodeType()));
        }
        ModelConfig.Builder b = switch (architecture(o)) {
            case LLAMA -> readLlama(o);
            case GPT2 -> readGpt2(o);
            case BERT -> readBert(o);
        };
        JsonNode t = o.get("tessera");
        if (t != null && !t.isNull()) {
            if (!t.isObject()) {
                throw new IllegalArgumentException("config.json: 'tessera' must be an object, got " + t.getNodeType());
            }
            readTessera(t, b);
        }
        return b.build();
    }

    private static Architecture architecture(JsonNode o) {
        JsonNode archs = o.get("architectures");
        String arch = archs != null && archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : null;
        String type = o.hasNonNull("model_type") ? o.get("model_type").asText() : null;
        if (arch != null) {
            return switch (arch) {
                case "LlamaForCausalLM" -> Architecture.LLAMA;
                case "GPT2LMHeadModel" -> Architecture.GPT2;
                case "BertForMaskedLM" -> Architecture.BERT;
                default -> throw new IllegalArgumentException("config.json: unsupported architecture '" + arch + "'; supported: " + SUPPORTED);
            };
        }
        if (type == null) {
            throw new IllegalArgumentException("config.json: neither 'architectures' nor 'model_type' is given; supported: " + SUPPORTED);
        }
        return switch (type) {
            case "llama" -> Architecture.LLAMA;
            case "gpt2" -> Architecture.GPT2;
            case "bert" -> Architecture.BERT;
            default -> throw new IllegalArgumentException("config.json: unsupported model_type '" + type + "'; supported: " + SUPPORTED);
        };
    }

    private static ModelConfig.Builder readLlama(JsonNode o) {
        if (o.hasNonNull("rope_scaling")) {
            throw new IllegalArgumentException("config.json: rope_scaling " + o.get("rope_scaling") + " is not supported (only plain RoPE)");
        }
        int dim = requiredInt(o, "hidden_size");
        int heads = requiredInt(o, "num_attention_heads");
        int window = integer(o, "sliding_window", 0); // Mistral's sliding window (B5); null means none
        boolean bias = bool(o, "attention_bias", false);
        if (bool(o, "mlp_bias", bias) != bias) {
            throw new IllegalArgumentException("config.json: attention_bias and mlp_bias must agree, got " + bias + " and " + !bias);
        }
        return ModelConfig.llama(requiredInt(o, "vocab_size"), integer(o, "max_position_embeddings", 2048), requiredInt(o,
                        "num_hidden_layers"), dim, heads, integer(o, "num_key_value_heads", heads), requiredInt(o, "intermediate_size"))
                .toBuilder()
                .headDim(integer(o, "head_dim", heads > 0 ? dim / heads : 0))
                .normEps(number(o, "rms_norm_eps", 1e-6))
                .ropeTheta(ropeTheta(o))
                .tieEmbeddings(bool(o, "tie_word_embeddings", false))
                .bias(bias)
                .activation(activation(o, "hidden_act", "silu"))
                .dropout(number(o, "attention_dropout", 0))
                .initStd(number(o, "initializer_range", 0.02))
                .attentionKind(window > 0 ? AttentionKind.SLIDING_WINDOW : AttentionKind.SOFTMAX)
                .attentionOptions(window > 0 ? new SlidingWindowAttention.Options(window) : new KernelOptions.None())
                .dtype(dtype(o));
    }

    /**
     * RoPE base: transformers 4 writes a top-level {@code rope_theta}; transformers 5 writes
     * {@code rope_parameters: {"rope_type": "default", "rope_theta": ...}}. Only the default
     * (unscaled) type is supported.
     */
    private static double ropeTheta(JsonNode o) {
        JsonNode p = o.get("rope_parameters");
        if (p == null || p.isNull()) {
            return number(o, "rope_theta", 10000);
        }
        if (!p.isObject()) {
            throw new IllegalArgumentException("config.json: 'rope_parameters' must be an object, got " + p.getNodeType());
        }
        String type = p.path("rope_type").asText("default");
        if (!type.equals("default")) {
            throw new IllegalArgumentException("config.json: rope_parameters.rope_type '" + type + "' is not supported (only plain RoPE, 'default')");
        }
        return number(p, "rope_theta", number(o, "rope_theta", 10000));
    }

    private static ModelConfig.Builder readGpt2(JsonNode o) {
        int dim = integer(o, "n_embd", 768);
        int ctx = integer(o, "n_positions", integer(o, "n_ctx", 1024));
        return ModelConfig.gpt2(integer(o, "vocab_size", 50257), ctx, integer(o, "n_layer", 12), dim, integer(o, "n_head", 12))
                .toBuilder()
                .ffnHidden(integer(o, "n_inner", 4 * dim))
                .activation(activation(o, "activation_function", "gelu_new"))
                .normEps(number(o, "layer_norm_epsilon", 1e-5))
                .dropout(number(o, "resid_pdrop", 0.1))
                .initStd(number(o, "initializer_range", 0.02))
                .tieEmbeddings(bool(o, "tie_word_embeddings", true))
                .dtype(dtype(o));
    }

    private static ModelConfig.Builder readBert(JsonNode o) {
        int types = integer(o, "type_vocab_size", 2);
        if (types != Bert.TYPE_VOCAB_SIZE) {
            throw new IllegalArgumentException("config.json: type_vocab_size " + types + " is not supported (Bert has " + Bert.TYPE_VOCAB_SIZE
                    + " token types)");
        }
        double hidden = number(o, "hidden_dropout_prob", 0.1);
        if (number(o, "attention_probs_dropout_prob", hidden) != hidden) {
            throw new IllegalArgumentException("config.json: hidden_dropout_prob and attention_probs_dropout_prob must agree, got " + hidden
                    + " and " + number(o, "attention_probs_dropout_prob", hidden));
        }
        if (!bool(o, "tie_word_embeddings", true)) {
            throw new IllegalArgumentException("config.json: tie_word_embeddings false is not supported for bert (the MLM decoder is tied)");
        }
        return ModelConfig.bert(integer(o, "vocab_size", 30522), integer(o, "max_position_embeddings", 512), integer(o,
                        "num_hidden_layers", 12), integer(o, "hidden_size", 768), integer(o, "num_attention_heads", 12),
                        integer(o, "intermediate_size", 3072))
                .toBuilder()
                .activation(activation(o, "hidden_act", "gelu"))
                .normEps(number(o, "layer_norm_eps", 1e-12))
                .dropout(hidden)
                .initStd(number(o, "initializer_range", 0.02))
                .dtype(dtype(o));
    }

    private static void readTessera(JsonNode t, ModelConfig.Builder b) {
        if (t.has("norm_kind")) b.normKind(enumValue(t, "norm_kind", NormKind.class));
        if (t.has("norm_placement")) b.normPlacement(enumValue(t, "norm_placement", NormPlacement.class));
        if (t.has("ffn_kind")) b.ffnKind(enumValue(t, "ffn_kind", FeedForward.Kind.class));
        if (t.has("ffn_options")) b.ffnOptions(ffnOptions(t));
        if (t.has("activation")) b.activation(enumValue(t, "activation", Activation.class));
        if (t.has("attention_kind")) b.attentionKind(enumValue(t, "attention_kind", AttentionKind.class));
        if (t.has("positional")) b.positional(enumValue(t, "positional", Positional.class));
        if (t.has("rope_theta")) b.ropeTheta(number(t, "rope_theta", 0));
        if (t.has("bias")) b.bias(bool(t, "bias", false));
        if (t.has("qk_norm")) b.qkNorm(bool(t, "qk_norm", false));
        if (t.has("attention_softcap")) b.attentionSoftCap(number(t, "attention_softcap", 0));
        if (t.has("final_softcap")) b.finalSoftCap(number(t, "final_softcap", 0));
        if (t.has("z_loss")) b.zLoss(number(t, "z_loss", 0));
        if (t.has("deep_norm")) b.deepNorm(bool(t, "deep_norm", false));
        if (t.has("dropout")) b.dropout(number(t, "dropout", 0));
        if (t.hasNonNull("hourglass")) {
            try {
                b.hourglass(Hourglass.Options.parse(t.get("hourglass").asText()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("config.json: tessera." + e.getMessage(), e);
            }
        }
        if (t.hasNonNull("mixer")) {
            b.mixer(mixer(t));
        } else if (t.has("mixer_options")) {
            throw new IllegalArgumentException("config.json: tessera.mixer_options needs tessera.mixer (kinds: " + MixerKind.names() + ")");
        }
        if (t.hasNonNull("embedding")) {
            b.embedding(embedding(t));
        } else if (t.has("embedding_options")) {
            throw new IllegalArgumentException("config.json: tessera.embedding_options needs tessera.embedding (kinds: " + Define.NAME + ")");
        }
        Map<String, Object> options = new LinkedHashMap<>();
        if (t.has("attention_window")) options.put("window", integer(t, "attention_window", 0)); // written before attention_options
        if (t.has("attention_top_k")) options.put("k", integer(t, "attention_top_k", 0));
        options.putAll(optionValues(t, "attention_options"));
        if (!options.isEmpty()) {
            AttentionKind kind = t.has("attention_kind") ? enumValue(t, "attention_kind", AttentionKind.class) : AttentionKind.SOFTMAX;
            try {
                b.attentionOptions(kind.options(options));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("config.json: tessera.attention_options: " + e.getMessage(), e);
            }
        }
    }

    /** Issue 17: {@code tessera.mixer} by name with {@code tessera.mixer_options} (an object) over the kind's defaults. */
    private static MixerKind.Spec mixer(JsonNode t) {
        try {
            return MixerKind.Spec.of(t.get("mixer").asText(), optionValues(t, "mixer_options"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config.json: tessera." + e.getMessage(), e);
        }
    }

    /** E6: {@code tessera.embedding} (only {@code define}) with {@code tessera.embedding_options} over its defaults. */
    private static Define.Options embedding(JsonNode t) {
        String name = t.get("embedding").asText();
        if (!name.equals(Define.NAME)) {
            throw new IllegalArgumentException("config.json: tessera.embedding: unknown kind '" + name + "' (kinds: " + Define.NAME + ")");
        }
        try {
            return Define.options(optionValues(t, "embedding_options"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config.json: tessera." + e.getMessage(), e);
        }
    }

    /**
     * The object {@code tessera.<field>} as option name → value (scalars as their text, for
     * {@code KernelOptions} to parse), empty when absent; a one-line error when it is not an object.
     */
    private static Map<String, Object> optionValues(JsonNode t, String field) {
        JsonNode given = t.get(field);
        if (given != null && !given.isObject()) {
            throw new IllegalArgumentException("config.json: tessera." + field + " must be an object, got " + given);
        }
        Map<String, Object> options = new LinkedHashMap<>();
        if (given != null) {
            given.properties().forEach(e -> options.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText() : e.getValue()));
        }
        return options;
    }

    /**
     * {@code tessera.ffn_options}: of ffn conditional (B24) {"light_hidden": h, "routed": m}; of another kind with options
     * (E16 moe) an object over the kind's defaults.
     */
    private static Record ffnOptions(JsonNode t) {
        FeedForward.Kind kind = t.has("ffn_kind") ? enumValue(t, "ffn_kind", FeedForward.Kind.class) : FeedForward.Kind.CONDITIONAL;
        if (kind != FeedForward.Kind.CONDITIONAL) {
            try {
                return FeedForwardKinds.options(kind, optionValues(t, "ffn_options"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("config.json: tessera.ffn_options: " + e.getMessage(), e);
            }
        }
        JsonNode o = t.get("ffn_options");
        if (!o.isObject() || o.size() != 2 || !o.has("light_hidden") || !o.has("routed")) {
            throw new IllegalArgumentException("config.json: tessera.ffn_options must be {\"light_hidden\": h, \"routed\": m}, got " + o);
        }
        try {
            return new ConditionalFeedForward.Options(integer(o, "light_hidden", 0), integer(o, "routed", 0));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("config.json: tessera.ffn_options: " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- fields

    private static int requiredInt(JsonNode o, String field) {
        if (!o.hasNonNull(field)) {
            throw new IllegalArgumentException("config.json: missing required field '" + field + "'");
        }
        return integer(o, field, 0);
    }

    private static int integer(JsonNode o, String field, int otherwise) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("config.json: '" + field + "' must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static double number(JsonNode o, String field, double otherwise) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("config.json: '" + field + "' must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static boolean bool(JsonNode o, String field, boolean otherwise) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return otherwise;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("config.json: '" + field + "' must be true or false, got " + v);
        }
        return v.booleanValue();
    }

    private static DType dtype(JsonNode o) {
        String field = o.hasNonNull("torch_dtype") ? "torch_dtype" : "dtype";
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            return DType.F32;
        }
        for (DType d : DType.values()) {
            if (d.isFloating() && d.torchName().equals(v.asText())) {
                return d;
            }
        }
        throw new IllegalArgumentException("config.json: unsupported " + field + " " + v + "; supported: float32, float64, bfloat16, float16");
    }

    private static Activation activation(JsonNode o, String field, String otherwise) {
        JsonNode v = o.get(field);
        String name = v == null || v.isNull() ? otherwise : v.asText();
        return switch (name) {
            case "silu", "swish" -> Activation.SILU;
            case "gelu" -> Activation.GELU_ERF;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> Activation.GELU_TANH;
            case "relu" -> Activation.RELU;
            case "relu2" -> Activation.SQUARED_RELU;
            case "sigmoid" -> Activation.SIGMOID;
            default -> throw new IllegalArgumentException("config.json: unsupported " + field + " '" + name
                    + "'; supported: silu, swish, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, relu2, sigmoid");
        };
    }

    private static String actName(Activation a, Architecture arch) {
        return switch (a) {
            case SILU -> "silu";
            case GELU_ERF -> "gelu";
            case GELU_TANH -> arch == Architecture.GPT2 ? "gelu_new" : "gelu_pytorch_tanh";
            case RELU -> "relu";
            case SQUARED_RELU -> "relu2";
            case SIGMOID -> "sigmoid";
        };
    }

    private static <E extends Enum<E>> E enumValue(JsonNode o, String field, Class<E> type) {
        String name = o.get(field).asText();
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("config.json: tessera." + field + " '" + name + "' is not one of "
                + Arrays.stream(type.getEnumConstants()).map(HfConfig::lower).toList());
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
