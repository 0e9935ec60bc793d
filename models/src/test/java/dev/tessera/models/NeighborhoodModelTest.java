package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.NeighborhoodAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B26 neighborhood attention in whole models (the causal variant, k = 7): switched on by name with
 * its per-head bias table {@code rpb}, stored in config.json, and a short run lowers the loss.
 * (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class NeighborhoodModelTest {
    private static ModelConfig neighborhood(ModelConfig base) {
        return base.toBuilder().attentionKind(AttentionKind.NEIGHBORHOOD).build();
    }

    @Test
    void switchedOnByNameWithABiasTable() {
        LanguageModel m = Models.create(neighborhood(Fixtures.llama()), new Generator(51));
        var kernel = assertInstanceOf(NeighborhoodAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        assertEquals(7, kernel.options().kernelSize());
        assertArrayEquals(new int[] {4, 13}, m.stateDict().get("model.layers.0.self_attn.kernel.rpb").shape()); // NH 4, 2k − 1
        LanguageModel g = Models.create(neighborhood(Fixtures.gpt2()), new Generator(52));
        assertInstanceOf(NeighborhoodAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
    }

    /** Past k positions the window cuts: later logits differ from full causal attention, the first k agree up to the bias. */
    @Test
    void theWindowIsUsed() {
        ModelConfig base = Fixtures.llama();
        Tensor ids = Fixtures.ids(53, 2, 12, base.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = Models.create(base, new Generator(54)).forward(ids, null).data();
            Tensor local = Models.create(neighborhood(base), new Generator(54)).forward(ids, null).data();
            assertTrue(Fixtures.maxAbsDiff(full, local) > 1e-4, "k = 7 must change positions 7 … 11");
        }
    }

    @Test
    void configJsonRoundTrip() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.NEIGHBORHOOD).attentionOptions(new NeighborhoodAttention.Options(3))
                    .build();
            var tessera = c.toHuggingFace().get("tessera");
            assertEquals("neighborhood", tessera.get("attention_kind").asText());
            assertEquals(3, tessera.get("attention_options").get("kernel_size").asInt());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    /** Llama only: GPT-2 builds the same kernel (switchedOnByNameWithABiasTable), and the CLI run trains it too. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = Fixtures.train(Models.create(neighborhood(Fixtures.llama()), new Generator(55)), 20, 1e-2, 56);
        assertTrue(loss[1] < 0.7 * loss[0], "neighborhood loss " + loss[0] + " → " + loss[1]);
    }

    /** {@code tessera train --attention neighborhood --attention-option kernel_size=3}: config.json names both, the checkpoint holds the bias table. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 57, "--attention", "neighborhood", "--attention-option", "kernel_size=3");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(AttentionKind.NEIGHBORHOOD, saved.attentionKind());
        assertEquals(new NeighborhoodAttention.Options(3), saved.attentionOptions());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 5}, weights.get("model.layers.0.self_attn.kernel.rpb").shape());
    }
}
