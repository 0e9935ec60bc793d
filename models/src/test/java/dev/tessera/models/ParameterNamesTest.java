package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parameter names and shapes are Hugging Face's, and the presets have the reference's sizes. */
class ParameterNamesTest {

    private static Map<String, List<Integer>> shapes(Map<String, ? extends Object> named) {
        Map<String, List<Integer>> out = new LinkedHashMap<>();
        named.forEach((k, v) -> {
            int[] s = v instanceof Variable p ? p.shape() : ((Tensor) v).shape();
            out.put(k, Arrays.stream(s).boxed().toList());
        });
        return out;
    }

    /** LlamaForCausalLM's named_parameters() for V 40, C 32, NH 4, KV 2 (HS 8), FF 48, 2 layers, untied. */
    @Test
    void llamaWithGqaHasHuggingFaceNamesAndShapes() {
        Map<String, List<Integer>> expected = new LinkedHashMap<>();
        expected.put("model.embed_tokens.weight", List.of(40, 32));
        for (int l = 0; l < 2; l++) {
            String p = "model.layers." + l + ".";
            expected.put(p + "self_attn.q_proj.weight", List.of(32, 32));
            expected.put(p + "self_attn.k_proj.weight", List.of(16, 32));
            expected.put(p + "self_attn.v_proj.weight", List.of(16, 32));
            expected.put(p + "self_attn.o_proj.weight", List.of(32, 32));
            expected.put(p + "mlp.gate_proj.weight", List.of(48, 32));
            expected.put(p + "mlp.up_proj.weight", List.of(48, 32));
            expected.put(p + "mlp.down_proj.weight", List.of(32, 48));
            expected.put(p + "input_layernorm.weight", List.of(32));
            expected.put(p + "post_attention_layernorm.weight", List.of(32));
        }
        expected.put("model.norm.weight", List.of(32));
        expected.put("lm_head.weight", List.of(40, 32));
        LanguageModel m = Models.create(Fixtures.llama(), new Generator(1));
        assertEquals(expected, shapes(m.module().namedParameters()));
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(m.stateDict().keySet()));

        LanguageModel tied = Models.create(Fixtures.llama().toBuilder().tieEmbeddings(true).build(), new Generator(1));
        expected.remove("lm_head.weight");
        assertEquals(expected, shapes(tied.module().namedParameters()));
    }

    private static Map<String, List<Integer>> gpt2Expected(boolean hfLayout) {
        Map<String, List<Integer>> e = new LinkedHashMap<>();
        e.put("transformer.wte.weight", List.of(40, 32));
        e.put("transformer.wpe.weight", List.of(16, 32));
        for (int l = 0; l < 2; l++) {
            String p = "transformer.h." + l + ".";
            e.put(p + "ln_1.weight", List.of(32));
            e.put(p + "ln_1.bias", List.of(32));
            e.put(p + "attn.c_attn.weight", hfLayout ? List.of(32, 96) : List.of(96, 32));
            e.put(p + "attn.c_attn.bias", List.of(96));
            e.put(p + "attn.c_proj.weight", List.of(32, 32));
            e.put(p + "attn.c_proj.bias", List.of(32));
            e.put(p + "ln_2.weight", List.of(32));
            e.put(p + "ln_2.bias", List.of(32));
            e.put(p + "mlp.c_fc.weight", hfLayout ? List.of(32, 128) : List.of(128, 32));
            e.put(p + "mlp.c_fc.bias", List.of(128));
            e.put(p + "mlp.c_proj.weight", hfLayout ? List.of(128, 32) : List.of(32, 128));
            e.put(p + "mlp.c_proj.bias", List.of(32));
        }
        e.put("transformer.ln_f.weight", List.of(32));
        e.put("transformer.ln_f.bias", List.of(32));
        return e;
    }

    /** GPT2LMHeadModel's parameters (the tied lm_head listed once, as transformer.wte.weight). */
    @Test
    void gpt2HasHuggingFaceNamesAndShapes() {
        LanguageModel m = Models.create(Fixtures.gpt2(), new Generator(2));
        assertEquals(gpt2Expected(false), shapes(m.module().namedParameters()));
        assertEquals(gpt2Expected(false), shapes(m.stateDict()));
        assertEquals(gpt2Expected(true), shapes(GPT2.toHuggingFaceLayout(m.stateDict())));
    }

    @Test
    void gpt2HuggingFaceLayoutRoundTripsAndLoads() {
        GPT2 m = (GPT2) Models.create(Fixtures.gpt2(), new Generator(3));
        Map<String, Tensor> hf = GPT2.toHuggingFaceLayout(m.stateDict());
        Tensor ours = m.stateDict().get("transformer.h.0.attn.c_attn.weight");
        Tensor theirs = hf.get("transformer.h.0.attn.c_attn.weight");
        assertEquals(ours.getDouble(5, 7), theirs.getDouble(7, 5));
        // OpenAI-style names (no "transformer." prefix), causal-mask buffers and a tied lm_head, as old checkpoints have
        Map<String, Tensor> openai = new LinkedHashMap<>();
        hf.forEach((k, v) -> openai.put(k.substring("transformer.".length()), v));
        openai.put("h.0.attn.bias", Tensor.ones(1, 1, 16, 16));
        openai.put("lm_head.weight", hf.get("transformer.wte.weight"));
        GPT2 other = (GPT2) Models.create(Fixtures.gpt2(), new Generator(4));
        other.loadHuggingFace(openai);
        Tensor ids = Fixtures.ids(5, 2, 6, 40);
        m.module().eval();
        other.module().eval();
        assertEquals(0, Fixtures.maxAbsDiff(m.forward(ids, null).data(), other.forward(ids, null).data()));
    }

    /** tiny: 2·V·D (embedding, untied head) + L·(4·D² + 3·D·FF + 2·D) + D (final norm). */
    @Test
    void tinyPresetHasTheReferenceParameterCount() {
        int v = 256, l = 4, d = 256, h = 4, kv = 4, ff = 768, hs = d / h;
        long perLayer = (long) d * h * hs + 2L * d * kv * hs + (long) h * hs * d + 3L * d * ff + 2L * d;
        long expected = 2L * v * d + l * perLayer + d;
        assertEquals(3_541_248L, expected);
        LanguageModel m = Models.create(ModelConfig.tiny(), new Generator(0));
        assertEquals(expected, m.parameterCount());
        assertEquals(8, Preset.TINY.batchSize());
        assertEquals(256, Preset.TINY.sequenceLength());
    }

    /** gpt2 preset (a GPT-2-sized Llama): 2·50304·768 + 12·(4·768² + 3·768·2048 + 2·768) + 768 ≈ 162M. */
    @Test
    void gpt2PresetHas162MParameters() {
        ModelConfig c = ModelConfig.gpt2();
        assertEquals(ModelConfig.Architecture.LLAMA, c.architecture());
        long d = 768;
        long expected = 2 * 50304 * d + 12 * (4 * d * d + 3 * d * 2048 + 2 * d) + d;
        assertEquals(162_220_800L, expected);
        LanguageModel m = Models.create(c, new Generator(0));
        assertEquals(expected, m.parameterCount());
        assertTrue(Math.abs(m.parameterCount() - 162e6) < 0.5e6);
    }

    @Test
    void smallPresetMatchesTheScript() {
        ModelConfig c = ModelConfig.small();
        assertEquals(List.of(256, 512, 6, 384, 6, 6, 1024),
                List.of(c.vocabSize(), c.contextLength(), c.layers(), c.dim(), c.heads(), c.kvHeads(), c.ffnHidden()));
        assertEquals(ModelConfig.Positional.ROPE_INTERLEAVED, c.positional());
        assertEquals(Preset.SMALL, Preset.of("Small"));
    }
}
