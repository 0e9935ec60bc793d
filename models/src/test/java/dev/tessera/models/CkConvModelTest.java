package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.CkConv;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E24 CKConv / FlexConv in place of attention in Llama and GPT-2: decoding from the held inputs
 * equals the full (FFT) forward, greedy generation equals recomputation, config.json and CLI
 * switch, it learns.
 */
class CkConvModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("ckconv", options)).build();
    }

    @Test
    void decodingFromHeldInputsEqualsTheFullForward() {
        ModelConfig gpt2 = Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("ckconv", Map.of("length", "16", "mask", "false"))).build();
        for (ModelConfig c : List.of(llama(Map.of("length", "6", "hidden", "8")), gpt2)) {
            int l = ((CkConv.Options) c.mixer().options()).length();
            LruModelTest.decodes(c, state -> assertTrue(state[0].size(1) <= l, "at most the last L inputs, got " + state[0].size(1)));
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of("length", "8", "hidden", "8")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("length", "16", "hidden", "16")), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("length", "12", "hidden", "8", "omega", "10", "mask", "true", "threshold", "0.05"));
        assertEquals("ckconv", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new CkConv.Options(12, 8, 10, true, 0.05), c.mixer().options());
        assertEquals(new CkConv.Options(12, 8, 10, true), llama(Map.of("length", "12", "hidden", "8", "omega", "10")).mixer().options(),
                "FlexConv's cropping threshold 0.1 by default");
        var state = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {c.dim(), 8}, state.get("model.layers.0.mixer.kernel.l3.weight").shape());
        assertTrue(state.containsKey("model.layers.1.mixer.mask.sigma") && state.keySet().stream().noneMatch(n -> n.contains("self_attn")));
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "ckconv", "--mixer-option", "length=8", "--mixer-option", "hidden=8");
        assertEquals(MixerKind.Spec.of("ckconv", Map.of("length", "8", "hidden", "8")), c.mixer());
    }
}
