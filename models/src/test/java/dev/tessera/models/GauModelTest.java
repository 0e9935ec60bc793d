package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.GauAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B30 in whole models: {@code attentionKind GAU} builds the GAU kernel (option chunk = 0) or FLASH
 * mixed chunks (chunk = C) in Llama and GPT-2, with its scale-offsets and relative position bias in
 * the state dict; the config.json round trips keep the option; FLASH decodes through the KV cache
 * to the full forward (GAU with default options is in {@link CachedDecodingTest}); it trains from
 * {@code tessera train --attention gau}, and a short run with each lowers the loss and moves the bias.
 */
class GauModelTest {
    private static final String BIAS = "model.layers.0.self_attn.kernel.rel_pos_bias";

    private static ModelConfig gau(ModelConfig base, int chunk) {
        return base.toBuilder().attentionKind(AttentionKind.GAU).attentionOptions(new GauAttention.Options(chunk)).build();
    }

    @Test
    void configSelectsTheKernelAndRoundTrips() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            for (int chunk : new int[] {0, 4}) {
                ModelConfig c = gau(base, chunk);
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
                assertEquals("gau", c.toHuggingFace().get("tessera").get("attention_kind").asText());
                LanguageModel m = Models.create(c, new Generator(61));
                var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
                assertEquals(chunk, assertInstanceOf(GauAttention.class, kernel).options().chunk());
                assertTrue(m.stateDict().keySet().stream().anyMatch(n -> n.endsWith("kernel.q_offset")), m.stateDict().keySet().toString());
                assertEquals(chunk > 0, m.stateDict().keySet().stream().anyMatch(n -> n.endsWith("kernel.lin_k_scale")));
            }
        }
        assertEquals(new GauAttention.Options(0), Fixtures.llama().toBuilder().attentionKind(AttentionKind.GAU).build().attentionOptions());
    }

    @Test
    void flashDecodesThroughTheCacheToTheFullForward() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            new CachedDecodingTest().cachedEqualsFull(base.architecture() + " gau chunk=3", gau(base, 3));
        }
    }

    @Test
    void shortTrainingRunLowersTheLossAndMovesTheBias() {
        for (ModelConfig c : List.of(gau(Fixtures.llama(), 0), gau(Fixtures.gpt2(), 4))) {
            LanguageModel m = Models.create(c, new Generator(62));
            double[] loss = Fixtures.train(m, 20, 1e-2, 63);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + " " + c.attentionOptions() + " loss " + loss[0] + " → " + loss[1]);
            Map<String, Tensor> sd = m.stateDict();
            String bias = sd.containsKey(BIAS) ? BIAS : sd.keySet().stream().filter(n -> n.endsWith("kernel.rel_pos_bias")).findFirst().orElseThrow();
            assertTrue(sd.get(bias).abs().max(false).item() > 1e-4, "rel_pos_bias was trained (it starts at 0)");
        }
    }

    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 64, "--attention", "gau", "--attention-option", "chunk=4");
        assertEquals(new GauAttention.Options(4), c.attentionOptions()); // ModelConfig checks that the options are the kind's
    }
}
