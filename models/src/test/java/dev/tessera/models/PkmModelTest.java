package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.ffn.ProductKeyMemory;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E1 product-key memory in place of the FFN of chosen layers of Llama and GPT-2: cached decoding, training, config.json and CLI. */
class PkmModelTest {

    private static ModelConfig pkm(ModelConfig base, Map<String, ?> options) {
        return base.toBuilder().ffnKind(FeedForward.Kind.PKM).ffnOptions(FeedForwardKinds.options(FeedForward.Kind.PKM, options)).build();
    }

    @Test
    void cachedDecodingEqualsTheFullForward() {
        MoeModelTest.decodesLikeTheFullForward(pkm(Fixtures.llama(), Map.of("keys", "8", "top_k", "4", "layers", "1")), 81, 11, 4);
        MoeModelTest.decodesLikeTheFullForward(pkm(Fixtures.gpt2(), Map.of("keys", "6", "top_k", "3", "heads", "2")), 81, 11, 4);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : List.of(pkm(Fixtures.llama(), Map.of("keys", "8", "layers", "1")), pkm(Fixtures.gpt2(), Map.of("keys", "8")))) {
            LanguageModel m = Models.create(c, new Generator(84));
            double[] loss = Fixtures.train(m, 20, 1e-2, 85);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    /** The memory only in the chosen layers (the others keep SwiGLU), its names, and the config.json round trip. */
    @Test
    void configJsonRoundTripAndChosenLayers() {
        ModelConfig c = pkm(Fixtures.llama(), Map.of("keys", "8", "layers", "1"));
        assertEquals("pkm", c.toHuggingFace().get("tessera").get("ffn_kind").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new ProductKeyMemory.Options(8, 8, 4, 32, "1"), c.ffnOptions());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.1.mlp.values") && names.contains("model.layers.1.mlp.keys1")
                && names.contains("model.layers.0.mlp.gate_proj.weight") && !names.contains("model.layers.0.mlp.values")
                && !names.contains("model.layers.1.mlp.gate_proj.weight"), names.toString());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 86, "--ffn", "pkm", "--ffn-option", "keys=8", "--ffn-option", "layers=0");
        assertEquals(FeedForwardKinds.options(FeedForward.Kind.PKM, Map.of("keys", "8", "layers", "0")), c.ffnOptions());
    }
}
