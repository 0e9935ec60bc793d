package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** B5 in the models: switched on by name with its window, saved in config.json, decoded in bounded memory, and it learns. */
class SlidingWindowModelTest {

    private static ModelConfig windowed(ModelConfig base, int w) {
        return base.toBuilder().attentionKind(AttentionKind.SLIDING_WINDOW).attentionOptions(new SlidingWindowAttention.Options(w)).build();
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = windowed(base, 4);
            LanguageModel m = Models.create(c, new Generator(31));
            double[] loss = Fixtures.train(m, 20, 1e-2, 32);
            assertTrue(loss[1] < 0.7 * loss[0], base.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    /** The window changes what a model computes: a narrower window gives other logits than full causal attention. */
    @Test
    void windowIsUsedByBothArchitectures() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            Tensor ids = Fixtures.ids(33, 2, 10, base.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor full = Models.create(base, new Generator(34)).forward(ids, null).data();
                Tensor wide = Models.create(windowed(base, 16), new Generator(34)).forward(ids, null).data();
                Tensor narrow = Models.create(windowed(base, 2), new Generator(34)).forward(ids, null).data();
                assertTrue(Fixtures.maxAbsDiff(full, wide) < 1e-5, "a window of the whole context is full attention");
                assertTrue(Fixtures.maxAbsDiff(full.narrow(1, 0, 2), narrow.narrow(1, 0, 2)) < 1e-5, "the first W positions see everything");
                assertTrue(Fixtures.maxAbsDiff(full, narrow) > 1e-4, "W = 2 must change later positions");
            }
        }
    }

    /** Decoding 12 tokens with W = 3 keeps at most 2 positions per layer cache and matches the full forward. */
    @Test
    void decodingMemoryIsBoundedByTheWindow() {
        ModelConfig c = windowed(Fixtures.llama(), 3);
        LanguageModel m = Models.create(c, new Generator(35));
        m.module().eval();
        Tensor ids = Fixtures.ids(36, 1, 12, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = m.forward(ids, null).data();
            List<KvCache> caches = m.newCaches(1, c.contextLength());
            double worst = 0;
            for (int p = 0; p < 12; p++) {
                Tensor step = m.forward(ids.narrow(1, p, 1).contiguous(), null, caches).data();
                worst = Math.max(worst, Fixtures.maxAbsDiff(step, full.narrow(1, p, 1)));
                for (KvCache cache : caches) {
                    assertTrue(cache.stored() <= 2 && cache.length() == p + 1, "cache holds " + cache.stored());
                }
            }
            assertTrue(worst < 2e-4, "cached logits differ by " + worst);
        }
    }

    @Test
    void configJsonRoundTrip() {
        ModelConfig llama = windowed(Fixtures.llama(), 5);
        var json = llama.toHuggingFace();
        assertEquals(5, json.get("sliding_window").asInt(), "Llama family: Mistral's field");
        assertEquals("sliding_window", json.get("tessera").get("attention_kind").asText());
        assertEquals(llama, ModelConfig.fromJson(llama.toJson()));
        ModelConfig gpt2 = windowed(Fixtures.gpt2(), 6);
        assertEquals(6, gpt2.toHuggingFace().get("tessera").get("attention_options").get("window").asInt());
        assertEquals(gpt2, ModelConfig.fromJson(gpt2.toJson()));
        assertTrue(!Fixtures.llama().toHuggingFace().has("sliding_window"));
        // a Mistral-style config (sliding_window, no tessera block) switches the kind on
        var mistral = Fixtures.llama().toHuggingFace();
        mistral.remove("tessera");
        mistral.put("sliding_window", 7);
        ModelConfig read = ModelConfig.fromHuggingFace(mistral);
        assertEquals(AttentionKind.SLIDING_WINDOW, read.attentionKind());
        assertEquals(7, read.attentionWindow());
        var kernel = ((Llama) Models.create(read, new Generator(1))).blocks().get(0).attention().kernel();
        assertEquals(7, assertInstanceOf(SlidingWindowAttention.class, kernel).window());
    }

    @Test
    void badWindowsAreOneLineErrors() {
        var b = Fixtures.llama().toBuilder();
        var e = assertThrows(IllegalArgumentException.class, () -> b.attentionKind(AttentionKind.SLIDING_WINDOW).build());
        assertEquals("ModelConfig: attention sliding_window needs option window (options: window)", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder()
                .attentionOptions(new SlidingWindowAttention.Options(4)).build());
        assertEquals("ModelConfig: attention softmax takes None options, got Options[window=4]", f.getMessage());
        assertThrows(IllegalArgumentException.class, () -> windowed(Fixtures.llama(), -1));
        var json = windowed(Fixtures.llama(), 5).toHuggingFace();
        json.put("sliding_window", "wide");
        var g = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: 'sliding_window' must be an integer, got \"wide\"", g.getMessage());
    }
}
