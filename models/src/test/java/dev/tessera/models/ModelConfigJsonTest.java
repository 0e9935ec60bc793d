package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json: lossless round trips, real Hugging Face files, one-line errors. */
class ModelConfigJsonTest {

    static final String LLAMA3_8B = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "bos_token_id": 128000,
              "eos_token_id": 128001,
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 14336,
              "max_position_embeddings": 8192,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 500000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.40.0.dev0",
              "use_cache": true,
              "vocab_size": 128256
            }""";

    static final String GPT2_HF = """
            {
              "activation_function": "gelu_new",
              "architectures": ["GPT2LMHeadModel"],
              "attn_pdrop": 0.1,
              "bos_token_id": 50256,
              "embd_pdrop": 0.1,
              "eos_token_id": 50256,
              "initializer_range": 0.02,
              "layer_norm_epsilon": 1e-05,
              "model_type": "gpt2",
              "n_ctx": 1024,
              "n_embd": 768,
              "n_head": 12,
              "n_layer": 12,
              "n_positions": 1024,
              "resid_pdrop": 0.1,
              "summary_activation": null,
              "summary_first_dropout": 0.1,
              "summary_proj_to_labels": true,
              "summary_type": "cls_index",
              "summary_use_proj": true,
              "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
              "vocab_size": 50257
            }""";

    static List<ModelConfig> configs() {
        ModelConfig l = Fixtures.llama();
        ModelConfig g = Fixtures.gpt2();
        return List.of(ModelConfig.tiny(), ModelConfig.small(), ModelConfig.gpt2(), ModelConfig.openaiGpt2(), l, g,
                l.toBuilder().normKind(NormKind.LAYER_NORM).normPlacement(NormPlacement.SANDWICH).ffnKind(FeedForward.Kind.GEGLU)
                        .activation(Activation.GELU_TANH).qkNorm(true).attentionSoftCap(50).finalSoftCap(30).zLoss(1e-4).bias(true)
                        .tieEmbeddings(true).dropout(0.1).initStd(0.01).dtype(DType.BF16).ropeTheta(500000).headDim(16).build(),
                l.toBuilder().attentionKind(AttentionKind.ALIBI).positional(ModelConfig.Positional.NONE).normPlacement(NormPlacement.POST)
                        .deepNorm(true).ffnKind(FeedForward.Kind.MLP).activation(Activation.SQUARED_RELU).build(),
                l.toBuilder().attentionKind(AttentionKind.PERFORMER).positional(ModelConfig.Positional.LEARNED).build(),
                g.toBuilder().attentionKind(AttentionKind.KEYNORM).positional(ModelConfig.Positional.SINUSOIDAL).tieEmbeddings(false)
                        .normKind(NormKind.RMS_NORM).bias(false).qkNorm(true).dtype(DType.F64).build(),
                g.toBuilder().attentionKind(AttentionKind.MEMORY_EFFICIENT).normPlacement(NormPlacement.POST).deepNorm(true)
                        .activation(Activation.RELU).ffnHidden(100).build());
    }

    @Test
    void oursToJsonToOursIsLossless() {
        for (ModelConfig c : configs()) {
            assertEquals(c, ModelConfig.fromJson(c.toJson()), c.toString());
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void plainModelsNeedOnlyTheHuggingFaceFields() {
        for (ModelConfig c : List.of(Fixtures.llama(), Fixtures.gpt2(), ModelConfig.openaiGpt2())) {
            ObjectNode json = c.toHuggingFace();
            json.remove("tessera");
            assertEquals(c, ModelConfig.fromHuggingFace(json));
        }
    }

    @Test
    void writesHuggingFaceFieldNames() {
        ObjectNode llama = ModelConfig.tiny().toHuggingFace();
        assertEquals("LlamaForCausalLM", llama.get("architectures").get(0).asText());
        assertEquals("llama", llama.get("model_type").asText());
        assertEquals(256, llama.get("hidden_size").asInt());
        assertEquals(768, llama.get("intermediate_size").asInt());
        assertEquals(4, llama.get("num_key_value_heads").asInt());
        assertEquals("silu", llama.get("hidden_act").asText());
        assertEquals("float32", llama.get("torch_dtype").asText());
        assertEquals("rope_interleaved", llama.get("tessera").get("positional").asText());
        ObjectNode gpt2 = ModelConfig.openaiGpt2().toHuggingFace();
        assertEquals("GPT2LMHeadModel", gpt2.get("architectures").get(0).asText());
        assertEquals(768, gpt2.get("n_embd").asInt());
        assertEquals(1024, gpt2.get("n_ctx").asInt());
        assertEquals("gelu_new", gpt2.get("activation_function").asText());
        assertTrue(gpt2.get("tie_word_embeddings").asBoolean());
    }

    @Test
    void readsLlama3Config(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, LLAMA3_8B);
        ModelConfig expected = ModelConfig.llama(128256, 8192, 32, 4096, 32, 8, 14336).toBuilder().ropeTheta(500000).normEps(1e-5)
                .dtype(DType.BF16).build();
        ModelConfig got = ModelConfig.fromHuggingFace(file);
        assertEquals(expected, got);
        assertEquals(128, got.headDim());
        assertEquals(ModelConfig.Positional.ROPE_HALF_SPLIT, got.positional());
    }

    @Test
    void readsTransformers5RopeParameters() {
        String v5 = LLAMA3_8B.replace("\"rope_theta\": 500000.0", "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 250000.0}");
        assertFalse(v5.contains("\"rope_theta\": 500000.0"), "the fixture must lose its top-level rope_theta");
        assertEquals(250000, ModelConfig.fromJson(v5).ropeTheta());
        assertOneLineError(v5.replace("\"default\"", "\"yarn\""), "rope_parameters.rope_type 'yarn' is not supported");
    }

    @Test
    void readsGpt2Config() {
        ModelConfig got = ModelConfig.fromJson(GPT2_HF);
        assertEquals(ModelConfig.openaiGpt2().toBuilder().dropout(0.1).build(), got);
        assertEquals(3072, got.ffnHidden());
        assertEquals(Activation.GELU_TANH, got.activation());
        assertTrue(got.tieEmbeddings() && got.bias());
    }

    private static void assertOneLineError(String json, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson(json));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), e.getMessage());
        }
    }

    @Test
    void badJsonGivesOneLineErrors() {
        assertOneLineError("{\"model_type\": \"llama\",\n \"hidden_size\": 64,,}", "config.json: invalid JSON at line 2");
        assertOneLineError("[1, 2]", "expected a JSON object");
        assertOneLineError(LLAMA3_8B.replace("LlamaForCausalLM", "MistralForCausalLM"), "'MistralForCausalLM'", "LlamaForCausalLM",
                "GPT2LMHeadModel");
        assertOneLineError("{\"model_type\": \"t5\"}", "unsupported model_type 't5'", "gpt2");
        assertOneLineError("{\"hidden_size\": 64}", "neither 'architectures' nor 'model_type'");
        assertOneLineError(LLAMA3_8B.replace("\"hidden_size\": 4096,", ""), "missing required field 'hidden_size'");
        assertOneLineError(LLAMA3_8B.replace("\"hidden_size\": 4096", "\"hidden_size\": \"4096\""), "'hidden_size' must be an integer");
        assertOneLineError(LLAMA3_8B.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5"), "ModelConfig: kvHeads 5 must divide heads 32");
        assertOneLineError(LLAMA3_8B.replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\"}"), "rope_scaling");
        assertOneLineError(LLAMA3_8B.replace("\"silu\"", "\"mish\""), "unsupported hidden_act 'mish'");
        assertOneLineError(LLAMA3_8B.replace("bfloat16", "int8"), "unsupported torch_dtype");
        assertOneLineError(LLAMA3_8B.replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": 0"), "must be true or false");
        assertOneLineError(GPT2_HF.replace("\"vocab_size\": 50257", "\"vocab_size\": 50257, \"tessera\": {\"attention_kind\": \"flash\"}"),
                "tessera.attention_kind 'flash' is not one of", "keynorm");
        assertOneLineError(GPT2_HF.replace("\"n_head\": 12", "\"n_head\": 7"), "ModelConfig: GPT2 needs heads");
    }

    @Test
    void unreadableFileIsOneLine(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.fromHuggingFace(dir.resolve("missing.json")));
        assertTrue(e.getMessage().startsWith("config.json: cannot read"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void invalidCombinationsAreRejected() {
        ModelConfig l = Fixtures.llama();
        ModelConfig g = Fixtures.gpt2();
        List<Runnable> bad = List.of(
                () -> l.toBuilder().attentionKind(AttentionKind.ALIBI).build(),
                () -> l.toBuilder().attentionKind(AttentionKind.KEYNORM).attentionSoftCap(50).build(),
                () -> l.toBuilder().deepNorm(true).build(),
                () -> l.toBuilder().kvHeads(3).build(),
                () -> l.toBuilder().dropout(1).build(),
                () -> l.toBuilder().dtype(DType.I64).build(),
                () -> g.toBuilder().positional(ModelConfig.Positional.ROPE_HALF_SPLIT).build(),
                () -> g.toBuilder().kvHeads(2).build(),
                () -> g.toBuilder().ffnKind(FeedForward.Kind.SWIGLU).build(),
                () -> g.toBuilder().normPlacement(NormPlacement.SANDWICH).build());
        for (Runnable r : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
            assertTrue(e.getMessage().startsWith("ModelConfig: ") && !e.getMessage().contains("\n"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preset.of("huge"));
        assertTrue(e.getMessage().contains("[tiny, small, gpt2]"), e.getMessage());
    }
}
