package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.CosineAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B14 cosine attention in whole models: switched on by name, its per-head {@code logit_scale} is a
 * named parameter the optimizer trains and checkpoints carry, and a short run lowers the loss.
 * (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class CosineAttentionModelTest {
    private static final String LLAMA_SCALE = "model.layers.0.self_attn.kernel.logit_scale";

    private static ModelConfig llama() {
        return Fixtures.llama().toBuilder().attentionKind(AttentionKind.COSINE).build();
    }

    @Test
    void switchedOnByNameWithAPerHeadLogitScale() {
        LanguageModel m = Models.create(llama(), new Generator(31));
        assertInstanceOf(CosineAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        Tensor scale = m.stateDict().get(LLAMA_SCALE);
        assertArrayEquals(new int[] {4, 1, 1}, scale.shape()); // NH = 4 (KV heads are repeated before the kernel)
        LanguageModel g = Models.create(Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.COSINE).build(), new Generator(32));
        assertInstanceOf(CosineAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
        assertTrue(g.stateDict().keySet().stream().anyMatch(n -> n.endsWith(".kernel.logit_scale")), g.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (ModelConfig c : new ModelConfig[] {llama(), Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.COSINE).build()}) {
            assertTrue(c.toJson().contains("\"cosine\""), c.toJson());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLossAndMovesTheScale() {
        LanguageModel llama = Models.create(llama(), new Generator(33));
        double[] loss = Fixtures.train(llama, 20, 1e-2, 34);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama cosine loss " + loss[0] + " → " + loss[1]);
        for (double s : llama.stateDict().get(LLAMA_SCALE).toDoubleArray()) {
            assertTrue(Math.abs(s - Math.log(10)) > 1e-3, "logit_scale was trained: " + s);
        }
        double[] g = Fixtures.train(Models.create(Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.COSINE).build(),
                new Generator(35)), 20, 1e-2, 36);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 cosine loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention cosine}: config.json names the kind, the checkpoint holds every head's scale. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 37, "--attention", "cosine");
        assertEquals(AttentionKind.COSINE, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 1, 1}, weights.get(LLAMA_SCALE).shape());
    }
}
