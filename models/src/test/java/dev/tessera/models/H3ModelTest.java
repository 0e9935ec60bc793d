package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.H3;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E9 H3 in place of attention in Llama: decoding from the O(1) state (shift register + diagonal SSM
 * state) equals the full forward, greedy generation equals recomputation, config.json and CLI switch, it learns.
 */
class H3ModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("h3", options)).build();
    }

    @Test
    void decodingFromTheStateEqualsTheFullForward() {
        LruModelTest.decodes(llama(Map.of("state", "8", "shift", "3")),
                state -> assertEquals(3, state.length, "x as real and imaginary parts, and the shift register"));
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of()), new Generator(73));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("state", "8")), new Generator(74));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("state", "6", "shift", "5", "dt_max", "0.2"));
        assertEquals("h3", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new H3.Options(6, 5, 0.001, 0.2), c.mixer().options());
        var state = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {3 * c.dim(), c.dim()}, state.get("model.layers.0.mixer.in_proj.weight").shape());
        assertArrayEquals(new int[] {c.dim(), 5}, state.get("model.layers.1.mixer.shift_kernel").shape());
        assertArrayEquals(new int[] {c.dim(), 3}, state.get("model.layers.1.mixer.log_A_real").shape());
        assertTrue(state.keySet().stream().noneMatch(n -> n.contains("self_attn") || n.contains("freq")), state.keySet().toString());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 75, "--mixer", "h3", "--mixer-option", "shift=3");
        assertEquals(MixerKind.Spec.of("h3", Map.of("shift", "3")), c.mixer());
    }
}
