package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.TopKAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** B9 in the models: switched on by name with its k, saved in config.json, used by both architectures, and it learns. */
class TopKModelTest {

    private static ModelConfig topK(ModelConfig base, int k) {
        return base.toBuilder().attentionKind(AttentionKind.TOPK).attentionOptions(new TopKAttention.Options(k)).build();
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            LanguageModel m = Models.create(topK(base, 3), new Generator(31));
            double[] loss = Fixtures.train(m, 20, 1e-2, 32);
            assertTrue(loss[1] < 0.7 * loss[0], base.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    /** k ≥ T is full causal attention; a small k changes every position past the first k. */
    @Test
    void topKIsUsedByBothArchitectures() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            Tensor ids = Fixtures.ids(33, 2, 10, base.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor full = Models.create(base, new Generator(34)).forward(ids, null).data();
                Tensor wide = Models.create(topK(base, 10), new Generator(34)).forward(ids, null).data();
                Tensor sparse = Models.create(topK(base, 2), new Generator(34)).forward(ids, null).data();
                assertTrue(Fixtures.maxAbsDiff(full, wide) < 1e-5, "k = T keeps every key");
                assertTrue(Fixtures.maxAbsDiff(full.narrow(1, 0, 2), sparse.narrow(1, 0, 2)) < 1e-5, "the first k positions keep all keys");
                assertTrue(Fixtures.maxAbsDiff(full, sparse) > 1e-4, "k = 2 must change later positions");
            }
        }
    }

    @Test
    void configJsonRoundTrip() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = topK(base, 5);
            var json = c.toHuggingFace();
            assertEquals("topk", json.get("tessera").get("attention_kind").asText());
            assertEquals(5, json.get("tessera").get("attention_options").get("k").asInt());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertTrue(!base.toHuggingFace().get("tessera").has("attention_options"), "softmax has no options");
            var legacy = json.deepCopy(); // config.json as written before attention_options existed
            ((com.fasterxml.jackson.databind.node.ObjectNode) legacy.get("tessera")).remove("attention_options");
            ((com.fasterxml.jackson.databind.node.ObjectNode) legacy.get("tessera")).put("attention_top_k", 5);
            assertEquals(c, ModelConfig.fromHuggingFace(legacy));
        }
        var kernel = ((Llama) Models.create(ModelConfig.fromJson(topK(Fixtures.llama(), 4).toJson()), new Generator(1))).blocks().get(0)
                .attention().kernel();
        assertEquals(4, assertInstanceOf(TopKAttention.class, kernel).k());
    }

    @Test
    void badTopKsAreOneLineErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().attentionKind(AttentionKind.TOPK).build());
        assertEquals("ModelConfig: attention topk needs option k (options: k)", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> Fixtures.gpt2().toBuilder().attentionOptions(new TopKAttention.Options(4)).build());
        assertEquals("ModelConfig: attention softmax takes None options, got Options[k=4]", f.getMessage());
        assertThrows(IllegalArgumentException.class, () -> topK(Fixtures.llama(), -1));
        var json = topK(Fixtures.llama(), 5).toHuggingFace();
        ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("tessera").get("attention_options")).put("k", "many");
        var g = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: tessera.attention_options: attention topk: option k must be an integer, got 'many'", g.getMessage());
        ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("tessera").get("attention_options")).put("window", 3);
        var h = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: tessera.attention_options: attention topk: unknown option 'window' (options: k)", h.getMessage());
    }
}
