package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.TalkingHeadsAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B15 talking-heads attention in whole models: switched on by name, its two head maps are named
 * parameters that start at the identity (the models' matrix init leaves them alone), the optimizer
 * trains them, and a short run lowers the loss. (Cached decoding == full forward is covered for
 * every kind by {@link CachedDecodingTest}.)
 */
class TalkingHeadsModelTest {
    private static final String PROJ_L = "model.layers.0.self_attn.kernel.proj_l";
    private static final String PROJ_W = "model.layers.0.self_attn.kernel.proj_w";

    private static ModelConfig with(ModelConfig base) {
        return base.toBuilder().attentionKind(AttentionKind.TALKING_HEADS).build();
    }

    @Test
    void switchedOnByNameWithIdentityHeadMaps() {
        LanguageModel m = Models.create(with(Fixtures.llama()), new Generator(41));
        assertInstanceOf(TalkingHeadsAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        for (String name : new String[] {PROJ_L, PROJ_W}) {
            Tensor p = m.stateDict().get(name);
            assertArrayEquals(new int[] {4, 4}, p.shape()); // NH = 4 (KV heads are repeated before the kernel)
            assertEquals(0.0, Fixtures.maxAbsDiff(p, Tensor.eye(4, DType.F32)), name + " starts at the identity");
        }
        LanguageModel g = Models.create(with(Fixtures.gpt2()), new Generator(42));
        assertInstanceOf(TalkingHeadsAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
        assertTrue(g.stateDict().keySet().stream().anyMatch(n -> n.endsWith(".kernel.proj_w")), g.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (ModelConfig c : new ModelConfig[] {with(Fixtures.llama()), with(Fixtures.gpt2())}) {
            assertEquals("talking_heads", c.toHuggingFace().get("tessera").get("attention_kind").asText());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLossAndMixesTheHeads() {
        LanguageModel llama = Models.create(with(Fixtures.llama()), new Generator(43));
        double[] loss = Fixtures.train(llama, 20, 1e-2, 44);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama talking-heads loss " + loss[0] + " → " + loss[1]);
        double[] pl = llama.stateDict().get(PROJ_L).toDoubleArray();
        assertTrue(Math.abs(pl[1]) > 1e-3, "an off-diagonal entry of proj_l was trained: " + pl[1]);
        double[] g = Fixtures.train(Models.create(with(Fixtures.gpt2()), new Generator(45)), 20, 1e-2, 46);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 talking-heads loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention talking_heads}: config.json names the kind, the checkpoint holds both maps. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 47, "--attention", "talking_heads");
        assertEquals(AttentionKind.TALKING_HEADS, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 2}, weights.get(PROJ_L).shape());
        assertArrayEquals(new int[] {2, 2}, weights.get(PROJ_W).shape());
    }
}
