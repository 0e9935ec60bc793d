package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.mixer.ByteNet;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E26 ByteNet's dilated convolution stack in place of attention in Llama and GPT-2: decoding from
 * the fixed per-unit windows equals the full forward, greedy generation equals recomputation,
 * config.json and CLI switch, it learns.
 */
class ByteNetModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("bytenet", options)).build();
    }

    @Test
    void windowDecodingEqualsTheFullForward() {
        ModelConfig gpt2 = Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("bytenet", Map.of("max_dilation", "4", "width", "2"))).build();
        for (ModelConfig c : List.of(llama(Map.of()), gpt2)) {
            ByteNet.Options o = (ByteNet.Options) c.mixer().options();
            LruModelTest.decodes(c, state -> {
                for (int u = 0; u < state.length; u++) {
                    assertEquals((o.width() - 1) << u, state[u].size(1), "O(1): unit " + u + " holds (k - 1)·r inputs");
                }
            });
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama(Map.of("max_dilation", "4")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of("max_dilation", "4")), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("width", "2", "hidden", "8", "max_dilation", "2", "stacks", "2"));
        assertEquals("bytenet", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new ByteNet.Options(2, 8, 2, 2), c.mixer().options());
        var state = Models.create(c, new Generator(1)).stateDict();
        assertArrayEquals(new int[] {8, 8, 2}, state.get("model.layers.0.mixer.unit3.conv.weight").shape(), "2 stacks of dilations 1, 2");
        assertTrue(!state.containsKey("model.layers.0.mixer.unit4.conv.weight") && state.keySet().stream().noneMatch(n -> n.contains("self_attn")));
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "bytenet", "--mixer-option", "max_dilation=4");
        assertEquals(MixerKind.Spec.of("bytenet", Map.of("max_dilation", "4")), c.mixer());
    }
}
