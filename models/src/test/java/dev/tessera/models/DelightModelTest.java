package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.ffn.Delight;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E6 DeLighT's DExTra + light FFN in place of the FFN of Llama and GPT-2: cached decoding, training, config.json and CLI. */
class DelightModelTest {

    private static ModelConfig delight(ModelConfig base, Map<String, ?> options) {
        return base.toBuilder().ffnKind(FeedForward.Kind.DELIGHT).ffnOptions(FeedForwardKinds.options(FeedForward.Kind.DELIGHT, options))
                .build();
    }

    @Test
    void cachedDecodingEqualsTheFullForward() {
        MoeModelTest.decodesLikeTheFullForward(delight(Fixtures.llama(), Map.of()), 91, 9, 3);
        MoeModelTest.decodesLikeTheFullForward(delight(Fixtures.gpt2(), Map.of("depth", "3")), 91, 9, 3);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : List.of(delight(Fixtures.llama(), Map.of()), delight(Fixtures.gpt2(), Map.of()))) {
            LanguageModel m = Models.create(c, new Generator(94));
            double[] loss = Fixtures.train(m, 20, 1e-2, 95);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    @Test
    void configJsonRoundTripAndCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = delight(Fixtures.llama(), Map.of("depth", "5"));
        assertEquals("delight", c.toHuggingFace().get("tessera").get("ffn_kind").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Delight.Options(5, 2, 4, 4), c.ffnOptions());
        assertTrue(Models.create(c, new Generator(1)).stateDict().containsKey("model.layers.1.mlp.dextra.glt4_weight"));
        ModelConfig cli = CliTrainRun.trainedConfig(dir, 96, "--ffn", "delight", "--ffn-option", "depth=2");
        assertEquals(new Delight.Options(2, 2, 4, 4), cli.ffnOptions());
    }
}
