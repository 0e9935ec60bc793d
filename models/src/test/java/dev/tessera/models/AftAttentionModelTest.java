package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AftAttention;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B12 AFT in whole models: switched on by name, its (T × T) {@code position_bias} is a named
 * parameter the optimizer trains and checkpoints carry, and a short run lowers the loss.
 * (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class AftAttentionModelTest {
    private static final String LLAMA_BIAS = "model.layers.0.self_attn.kernel.position_bias";

    private static ModelConfig llama() {
        return Fixtures.llama().toBuilder().attentionKind(AttentionKind.AFT).build();
    }

    @Test
    void switchedOnByNameWithAPositionBiasOfContextSize() {
        LanguageModel m = Models.create(llama(), new Generator(41));
        assertInstanceOf(AftAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        assertArrayEquals(new int[] {16, 16}, m.stateDict().get(LLAMA_BIAS).shape()); // T = 16
        LanguageModel g = Models.create(Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.AFT).build(), new Generator(42));
        assertInstanceOf(AftAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
        assertTrue(g.stateDict().keySet().stream().anyMatch(n -> n.endsWith(".kernel.position_bias")), g.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (ModelConfig c : new ModelConfig[] {llama(), Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.AFT).build()}) {
            assertTrue(c.toJson().contains("\"aft\""), c.toJson());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLossAndMovesTheBias() {
        LanguageModel llama = Models.create(llama(), new Generator(43));
        double[] loss = Fixtures.train(llama, 20, 1e-2, 44);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama AFT loss " + loss[0] + " → " + loss[1]);
        assertTrue(llama.stateDict().get(LLAMA_BIAS).abs().max(false).item() > 1e-3, "position_bias was trained (it starts at 0)");
        double[] g = Fixtures.train(Models.create(Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.AFT).build(),
                new Generator(45)), 20, 1e-2, 46);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 AFT loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention aft}: config.json names the kind, the checkpoint holds the bias. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 47, "--attention", "aft");
        assertEquals(AttentionKind.AFT, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {16, 16}, weights.get(LLAMA_BIAS).shape());
    }
}
