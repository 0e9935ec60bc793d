package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.Talk;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E23 TaLK in place of attention in Llama and GPT-2: O(1) decoding from the held prefix sums equals
 * the full forward, greedy generation equals recomputation, config.json and CLI switch, it learns.
 */
class TalkModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("talk", options)).build();
    }

    @Test
    void prefixSumDecodingEqualsTheFullForward() {
        ModelConfig gpt2 = Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("talk", Map.of("heads", "4", "max_left", "3.5"))).build();
        for (ModelConfig c : List.of(llama(Map.of()), gpt2)) {
            int held = (int) Math.ceil(((Talk.Options) c.mixer().options()).maxLeft()) + 2;
            LruModelTest.decodes(c, state -> assertEquals(held, state[0].size(1), "O(1): the last ceil(l_max) + 2 prefix sums"));
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of("heads", "2")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("heads", "4", "max_left", "7")), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("heads", "4", "max_left", "7.5"));
        assertEquals("talk", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Talk.Options(4, 7.5), c.mixer().options());
        var state = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {4, c.dim()}, state.get("model.layers.0.mixer.offset.weight").shape());
        assertTrue(state.containsKey("model.layers.1.mixer.out_proj.weight") && state.keySet().stream().noneMatch(n -> n.contains("self_attn")));
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "talk", "--mixer-option", "heads=2");
        assertEquals(MixerKind.Spec.of("talk", Map.of("heads", "2")), c.mixer());
    }
}
