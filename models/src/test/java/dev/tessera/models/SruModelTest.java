package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.Sru;
import dev.tessera.tensor.Generator;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E13 SRU in place of attention in Llama: O(1) state decoding equals the full forward, config.json, it learns. */
class SruModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("sru", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        LruModelTest.decodes(llama(Map.of("forget_bias", "1")), state -> {
            assertEquals(1, state.length, "the state is c alone");
            assertEquals(1, state[0].size(1), "O(1): c is (B, 1, C) whatever the position");
        });
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of()), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("forget_bias", "1.5"));
        assertEquals("sru", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Sru.Options(1.5), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.weight") && names.contains("model.layers.1.mixer.v")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertArrayEquals(new int[] {3 * c.dim(), c.dim()},
                Models.create(c, new Generator(1)).stateDict().get("model.layers.0.mixer.weight").shape());
    }

    /** SRU++: the state holds c (B, 1, C) and the attention's keys and values, one per position seen. */
    @Test
    void sruPlusPlusDecodingEqualsTheFullForward() {
        LruModelTest.decodes(llama(Map.of("attention", "true")), state -> {
            assertEquals(3, state.length, "c, keys, values");
            assertEquals(1, state[0].size(1), "the recurrence is O(1): c is (B, 1, C)");
            assertEquals(state[1].size(1), state[2].size(1), "one key and one value per position");
        });
    }

    @Test
    void sruPlusPlusGreedyGenerationEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of("attention", "true")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 8, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 8), cached);
    }

    @Test
    void sruPlusPlusShortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("attention", "true")), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    /** {@code tessera train --mixer sru --mixer-option attention=true}: the run's config.json names SRU++ and its parameters are there. */
    @Test
    void sruPlusPlusSwitchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "sru", "--mixer-option", "attention=true");
        assertEquals(new Sru.Options(0, true, 0), c.mixer().options());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        var names = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {c.dim() / 4, c.dim()}, names.get("model.layers.0.mixer.q_proj").shape());
        assertTrue(names.containsKey("model.layers.0.mixer.alpha") && !names.containsKey("model.layers.0.mixer.weight"), names.keySet().toString());
    }
}
