package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E12 RWKV-4 time mix in place of attention in Llama and GPT-2: O(1)-state decoding equals the full forward, it learns, config and CLI. */
class RwkvModelTest {

    private static ModelConfig llama() {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("rwkv", Map.of())).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        ModelConfig gpt2 = Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("rwkv", Map.of())).build();
        for (ModelConfig c : List.of(llama(), gpt2)) {
            LruModelTest.decodes(c, state -> {
                assertEquals(4, state.length, "last input, num, den, running maximum");
                assertEquals(1, state[1].size(1), "O(1): (B, 1, C) whatever the position");
            });
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripParameterNamesAndTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = llama();
        assertEquals("rwkv", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.time_decay") && names.contains("model.layers.1.mixer.receptance.weight")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertEquals(MixerKind.Spec.of("rwkv", Map.of()), CliTrainRun.trainedConfig(dir, 66, "--mixer", "rwkv").mixer());
    }
}
