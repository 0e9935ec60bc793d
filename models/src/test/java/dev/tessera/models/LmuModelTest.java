package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.mixer.Lmu;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E15 LMU in place of attention in Llama: O(1) memory decoding equals the full forward, it learns, config.json and the CLI. */
class LmuModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("lmu", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        LruModelTest.decodes(llama(Map.of("order", "6", "units", "3")),
                state -> assertArrayEquals(new int[] {2, 1, 3, 6}, state[0].shape(), "O(1): m is (B, 1, U, d) whatever the position"));
        LruModelTest.decodes(llama(Map.of("order", "4", "units", "2", "feedback", "true")),
                state -> assertArrayEquals(new int[] {2, 1, 32}, state[1].shape(), "O(1): h is (B, 1, C) whatever the position"));
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : java.util.List.of(llama(Map.of()), llama(Map.of("order", "4", "units", "2", "feedback", "true")))) {
            LanguageModel m = Models.create(c, new Generator(64));
            double[] loss = Fixtures.train(m, 20, 1e-2, 50);
            assertTrue(loss[1] < 0.7 * loss[0], c.mixer() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    @Test
    void configJsonRoundTripParameterNamesAndTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = llama(Map.of("theta", "32", "order", "4"));
        assertEquals("lmu", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Lmu.Options(4, 32, 4, false), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.input_encoders") && names.contains("model.layers.1.mixer.memory_kernel")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertEquals(MixerKind.Spec.of("lmu", Map.of("theta", "8")), CliTrainRun.trainedConfig(dir, 67, "--mixer", "lmu", "--mixer-option",
                "theta=8").mixer());
    }
}
