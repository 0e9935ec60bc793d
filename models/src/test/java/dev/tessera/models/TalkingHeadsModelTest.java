package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.CollaborativeAttention;
import dev.tessera.nn.attention.TalkingHeadsAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B15 in whole models. Talking heads: switched on by name, its two head maps are named parameters
 * that start at the identity (the models' matrix init leaves them alone), the optimizer trains
 * them, and a short run lowers the loss. Collaborative heads: the same for its mixing matrix, which
 * starts block-diagonal. (Cached decoding == full forward is covered for every kind by
 * {@link CachedDecodingTest}.)
 */
class TalkingHeadsModelTest {
    private static final String PROJ_L = "model.layers.0.self_attn.kernel.proj_l";
    private static final String PROJ_W = "model.layers.0.self_attn.kernel.proj_w";

    private static final String MIXING = "model.layers.0.self_attn.kernel.mixing";

    private static ModelConfig with(ModelConfig base) {
        return with(base, AttentionKind.TALKING_HEADS);
    }

    private static ModelConfig with(ModelConfig base, AttentionKind kind) {
        return base.toBuilder().attentionKind(kind).build();
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
    void collaborativeSwitchedOnByNameWithBlockMixing() {
        LanguageModel m = Models.create(with(Fixtures.llama(), AttentionKind.COLLABORATIVE), new Generator(48));
        assertInstanceOf(CollaborativeAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        Tensor mixing = m.stateDict().get(MIXING);
        assertArrayEquals(new int[] {4, 32}, mixing.shape()); // NH 4, NH·HS 32
        assertEquals(1.0, mixing.getDouble(1, 8), "head 1 starts on its own dimensions 8..15 (not re-initialised by the model)");
        assertEquals(0.0, mixing.getDouble(1, 0));
        LanguageModel g = Models.create(with(Fixtures.gpt2(), AttentionKind.COLLABORATIVE), new Generator(49));
        assertInstanceOf(CollaborativeAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
    }

    @Test
    void configJsonRoundTripsTheKinds() {
        for (AttentionKind kind : new AttentionKind[] {AttentionKind.TALKING_HEADS, AttentionKind.COLLABORATIVE}) {
            for (ModelConfig c : new ModelConfig[] {with(Fixtures.llama(), kind), with(Fixtures.gpt2(), kind)}) {
                assertEquals(kind.name().toLowerCase(java.util.Locale.ROOT), c.toHuggingFace().get("tessera").get("attention_kind").asText());
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            }
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

    @Test
    void collaborativeTrainingLowersTheLossAndSharesDimensions() {
        LanguageModel llama = Models.create(with(Fixtures.llama(), AttentionKind.COLLABORATIVE), new Generator(50));
        double[] loss = Fixtures.train(llama, 20, 1e-2, 51);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama collaborative loss " + loss[0] + " → " + loss[1]);
        double offBlock = llama.stateDict().get(MIXING).getDouble(1, 0);
        assertTrue(Math.abs(offBlock) > 1e-3, "head 1 learned to use head 0's dimensions: " + offBlock);
        double[] g = Fixtures.train(Models.create(with(Fixtures.gpt2(), AttentionKind.COLLABORATIVE), new Generator(52)), 20, 1e-2, 53);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 collaborative loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention talking_heads} (the checkpoint holds both maps) and {@code collaborative}: config.json names the kind. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 47, "--attention", "talking_heads");
        assertEquals(AttentionKind.TALKING_HEADS, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 2}, weights.get(PROJ_L).shape());
        assertArrayEquals(new int[] {2, 2}, weights.get(PROJ_W).shape());
        Path collaborative = CliTrainRun.train(Files.createDirectories(dir.resolve("collaborative")), 54, "--attention", "collaborative");
        assertEquals(AttentionKind.COLLABORATIVE, ModelConfig.fromHuggingFace(collaborative.resolve("config.json")).attentionKind());
    }
}
