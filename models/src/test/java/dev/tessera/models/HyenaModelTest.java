package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.Hyena;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E9 Hyena in place of attention in Llama and GPT-2: decoding from the held inputs equals the full
 * (FFT) forward, greedy generation equals recomputation, config.json and CLI switch, it learns.
 */
class HyenaModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("hyena", options)).build();
    }

    @Test
    void decodingFromHeldInputsEqualsTheFullForward() {
        ModelConfig gpt2 = Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("hyena", Map.of("length", "16", "order", "3"))).build();
        for (ModelConfig c : List.of(llama(Map.of("length", "6")), gpt2)) {
            int n = ((Hyena.Options) c.mixer().options()).order();
            LruModelTest.decodes(c, state -> assertEquals(n + 1, state.length, "the short conv's inputs and each order's"));
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of("length", "16")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("length", "16", "depth", "1")), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("order", "3", "length", "12", "activation", "relu", "decay", "false"));
        assertEquals("hyena", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Hyena.Options(3, 12, 3, 16, 2, Hyena.Activation.RELU, false), c.mixer().options());
        var state = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {4 * c.dim(), c.dim()}, state.get("model.layers.0.mixer.in_proj.weight").shape());
        assertArrayEquals(new int[] {3 * c.dim(), 16}, state.get("model.layers.1.mixer.filter.out.weight").shape());
        assertTrue(state.keySet().stream().noneMatch(n -> n.contains("self_attn") || n.contains("freq")), state.keySet().toString());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "hyena", "--mixer-option", "length=8");
        assertEquals(MixerKind.Spec.of("hyena", Map.of("length", "8")), c.mixer());
    }
}
