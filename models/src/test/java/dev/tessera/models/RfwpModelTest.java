package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.Rfwp;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E25 recurrent delta net in place of attention in Llama: O(1) fast-weight decoding equals the full forward, it learns, config and CLI. */
class RfwpModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("rfwp", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        LruModelTest.decodes(llama(Map.of("heads", "4")), state -> {
            assertArrayEquals(new int[] {2, 4, 8, 8}, state[0].shape(), "O(1): W is (B, H, D, D) whatever the position");
            assertArrayEquals(new int[] {2, 1, 32}, state[1].shape(), "and y_{t-1} (B, 1, C)");
        });
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of()), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripParameterNamesAndTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = llama(Map.of("heads", "2"));
        assertEquals("rfwp", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Rfwp.Options(2), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.slow_net.weight") && names.contains("model.layers.1.mixer.recurrent")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertEquals(MixerKind.Spec.of("rfwp", Map.of("heads", "2")), CliTrainRun.trainedConfig(dir, 68, "--mixer", "rfwp", "--mixer-option",
                "heads=2").mixer());
    }
}
