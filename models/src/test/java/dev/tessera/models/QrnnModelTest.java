package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.Qrnn;
import dev.tessera.tensor.Generator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** E14 QRNN in place of attention in Llama (and GPT-2): O(1) state decoding equals the full forward, config.json, it learns. */
class QrnnModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("qrnn", options)).build();
    }

    private static ModelConfig gpt2(Map<String, ?> options) {
        return Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("qrnn", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        for (ModelConfig c : List.of(llama(Map.of("window", "3", "hidden", "12")), gpt2(Map.of()))) {
            int k = ((Qrnn.Options) c.mixer().options()).window();
            LruModelTest.decodes(c, state -> {
                assertEquals(1, state[0].size(1), "O(1): c is (B, 1, H) whatever the position");
                assertEquals(k - 1, state[1].size(1), "and the last k - 1 inputs");
            });
        }
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of()), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("window", "3", "hidden", "24"));
        assertEquals("qrnn", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Qrnn.Options(3, 24), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.weight") && names.contains("model.layers.1.mixer.proj")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertArrayEquals(new int[] {3 * 24, 3 * c.dim()},
                Models.create(c, new Generator(1)).stateDict().get("model.layers.0.mixer.weight").shape());
    }
}
