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

/**
 * E19 Branchformer in the models: the causal form in Llama and GPT-2 (decoding from the held
 * inputs through the cache list == the full forward, greedy generation == recomputation, a short
 * run lowers the loss), the bidirectional form in BERT (a masked-LM run lowers the held-out loss),
 * config.json and {@code tessera train --mixer branchformer} switch it on.
 */
class BranchformerModelTest {
    private static final MixerKind.Spec CAUSAL = MixerKind.Spec.of("branchformer", Map.of("heads", "2", "hidden", "32", "kernel", "3"));
    private static final MixerKind.Spec AVERAGE = MixerKind.Spec.of("branchformer", Map.of("heads", "2", "hidden", "32", "kernel", "3",
            "merge", "average"));
    private static final MixerKind.Spec BIDIRECTIONAL = MixerKind.Spec.of("branchformer", Map.of("heads", "2", "hidden", "32", "kernel", "3",
            "causal", "false"));

    @Test
    void decodingFromTheHeldInputsEqualsTheFullForward() {
        for (MixerKind.Spec mixer : List.of(CAUSAL, AVERAGE)) {
            for (ModelConfig c : List.of(Fixtures.llama().toBuilder().mixer(mixer).build(), Fixtures.gpt2().toBuilder().mixer(mixer).build())) {
                LruModelTest.decodes(c, state -> assertTrue(state.length == 1 && state[0].size(0) == 2, mixer + ": per-layer held inputs"));
            }
        }
        LanguageModel m = Models.create(Fixtures.llama().toBuilder().mixer(CAUSAL).build(), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    /** 20 steps on one batch cut a Llama's loss by 30%. */
    @Test
    void aShortDecoderRunLowersTheLoss() {
        double[] loss = Fixtures.train(Models.create(Fixtures.llama().toBuilder().mixer(CAUSAL).build(), new Generator(64)), 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "branchformer: loss " + loss[0] + " -> " + loss[1]);
    }

    /** 40 masked-LM steps on counting rows cut a BERT's held-out loss by 30%. */
    @Test
    void aShortMaskedLmRunLowersTheLoss() {
        double[] loss = EncoderAttentionKindsTest.heldOutLossBeforeAndAfter(MlpMixersModelTest.bert(BIDIRECTIONAL));
        assertTrue(loss[1] < 0.7 * loss[0], "branchformer: held-out masked-LM loss " + loss[0] + " → " + loss[1]);
    }

    @Test
    void configJsonRoundTripsAndTheCommandLineSwitchesItOn(@TempDir Path dir) throws IOException {
        ModelConfig c = Fixtures.gpt2().toBuilder().mixer(AVERAGE).build();
        assertEquals("branchformer", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        ModelConfig b = MlpMixersModelTest.bert(BIDIRECTIONAL);
        assertEquals(b, ModelConfig.fromJson(b.toJson()));
        ModelConfig trained = CliTrainRun.trainedConfig(dir, 9, "--mixer", "branchformer", "--mixer-option", "heads=2", "--mixer-option", "hidden=32",
                "--mixer-option", "kernel=3");
        assertEquals(CAUSAL, trained.mixer());
    }
}
