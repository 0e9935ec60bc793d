package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.GaussianKeysAttention;
import dev.tessera.nn.attention.NormalizedAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B29's two kernels in whole models: mixture of Gaussian keys (its key maps and mixture logits are
 * named parameters the models' matrix init leaves alone) and normalised attention, each switched on
 * by name and lowering the loss in a short run. (Cached decoding == full forward is covered for
 * every kind by {@link CachedDecodingTest}.)
 */
class GaussianKeysAndNormalizedModelTest {
    private static final String KEY_MAPS = "model.layers.0.self_attn.kernel.key_maps";

    private static ModelConfig with(ModelConfig base, AttentionKind kind) {
        return base.toBuilder().attentionKind(kind).build();
    }

    @Test
    void switchedOnByName() {
        LanguageModel m = Models.create(with(Fixtures.llama(), AttentionKind.GAUSSIAN_KEYS), new Generator(61));
        assertInstanceOf(GaussianKeysAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        Tensor maps = m.stateDict().get(KEY_MAPS);
        assertArrayEquals(new int[] {4, 2, 8, 8}, maps.shape()); // NH 4, R 2, HS 8
        assertEquals(1.0, maps.getDouble(0, 0, 3, 3), "component 0 starts as the key itself (not re-initialised by the model)");
        assertArrayEquals(new int[] {4, 2}, m.stateDict().get("model.layers.0.self_attn.kernel.mixture_logits").shape());
        LanguageModel g = Models.create(with(Fixtures.gpt2(), AttentionKind.NORMALIZED), new Generator(62));
        assertInstanceOf(NormalizedAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
    }

    /** The number of Gaussians per key is the kind's option R: in the built kernel and through config.json. */
    @Test
    void componentsOptionRoundTrips() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.GAUSSIAN_KEYS)
                .attentionOptions(new GaussianKeysAttention.Options(3)).build();
        assertEquals(3, c.toHuggingFace().get("tessera").get("attention_options").get("components").asInt());
        assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        assertArrayEquals(new int[] {4, 3, 8, 8}, Models.create(c, new Generator(60)).stateDict().get(KEY_MAPS).shape());
        assertEquals(new GaussianKeysAttention.Options(GaussianKeysAttention.DEFAULT_COMPONENTS),
                with(Fixtures.llama(), AttentionKind.GAUSSIAN_KEYS).attentionOptions());
    }

    @Test
    void configJsonRoundTripsTheKinds() {
        for (AttentionKind kind : new AttentionKind[] {AttentionKind.GAUSSIAN_KEYS, AttentionKind.NORMALIZED}) {
            for (ModelConfig c : new ModelConfig[] {with(Fixtures.llama(), kind), with(Fixtures.gpt2(), kind)}) {
                assertEquals(kind.name().toLowerCase(java.util.Locale.ROOT), c.toHuggingFace().get("tessera").get("attention_kind").asText());
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            }
        }
    }

    @Test
    void trainingLowersTheLoss() {
        long seed = 63;
        for (AttentionKind kind : new AttentionKind[] {AttentionKind.GAUSSIAN_KEYS, AttentionKind.NORMALIZED}) {
            for (ModelConfig base : new ModelConfig[] {Fixtures.llama(), Fixtures.gpt2()}) {
                double[] loss = Fixtures.train(Models.create(with(base, kind), new Generator(seed++)), 20, 1e-2, seed++);
                assertTrue(loss[1] < 0.7 * loss[0], base.architecture() + " " + kind + " loss " + loss[0] + " → " + loss[1]);
            }
        }
    }

    /** {@code tessera train --attention gaussian_keys --attention-option components=3} and {@code normalized}: config.json names the kind and option. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(Files.createDirectories(dir.resolve("mgk")), 71, "--attention", "gaussian_keys",
                "--attention-option", "components=3");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(AttentionKind.GAUSSIAN_KEYS, saved.attentionKind());
        assertEquals(new GaussianKeysAttention.Options(3), saved.attentionOptions());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 3, 8, 8}, weights.get(KEY_MAPS).shape());
        Path norm = CliTrainRun.train(Files.createDirectories(dir.resolve("norm")), 72, "--attention", "normalized");
        assertEquals(AttentionKind.NORMALIZED, ModelConfig.fromHuggingFace(norm.resolve("config.json")).attentionKind());
    }
}
