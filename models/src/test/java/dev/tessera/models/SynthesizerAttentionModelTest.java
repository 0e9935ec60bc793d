package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.SynthesizerAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B13 Synthesizer in whole models: both variants switched on by name, R ({@code random_logits},
 * NH × T × T) a named parameter the optimizer trains and checkpoints carry, and a short run lowers
 * the loss. (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class SynthesizerAttentionModelTest {
    private static final String LLAMA_R = "model.layers.0.self_attn.kernel.random_logits";

    private static ModelConfig llama(AttentionKind kind) {
        return Fixtures.llama().toBuilder().attentionKind(kind).build();
    }

    @Test
    void switchedOnByNameWithAMatrixOfContextSize() {
        LanguageModel m = Models.create(llama(AttentionKind.SYNTHESIZER_RANDOM), new Generator(41));
        var kernel = assertInstanceOf(SynthesizerAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        assertEquals(SynthesizerAttention.Variant.RANDOM, kernel.variant());
        assertArrayEquals(new int[] {4, 16, 16}, m.stateDict().get(LLAMA_R).shape()); // NH 4, T 16
        LanguageModel d = Models.create(llama(AttentionKind.SYNTHESIZER_DENSE), new Generator(42));
        assertEquals(SynthesizerAttention.Variant.DENSE,
                ((SynthesizerAttention) ((Llama) d).blocks().get(0).attention().kernel()).variant());
        assertTrue(d.stateDict().containsKey("model.layers.0.self_attn.kernel.dense_w2"), d.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (AttentionKind kind : new AttentionKind[] {AttentionKind.SYNTHESIZER_RANDOM, AttentionKind.SYNTHESIZER_DENSE}) {
            for (ModelConfig c : new ModelConfig[] {llama(kind), Fixtures.gpt2().toBuilder().attentionKind(kind).build()}) {
                assertTrue(c.toJson().contains("\"" + kind.name().toLowerCase(java.util.Locale.ROOT) + "\""), c.toJson());
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            }
        }
    }

    @Test
    void trainingLowersTheLossAndMovesR() {
        LanguageModel llama = Models.create(llama(AttentionKind.SYNTHESIZER_RANDOM), new Generator(43));
        Tensor before = llama.stateDict().get(LLAMA_R).copy(); // the optimizer updates the parameter in place
        double[] loss = Fixtures.train(llama, 20, 1e-2, 44);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama synthesizer_random loss " + loss[0] + " → " + loss[1]);
        assertTrue(Fixtures.maxAbsDiff(before, llama.stateDict().get(LLAMA_R)) > 1e-3, "random_logits was trained");
        double[] g = Fixtures.train(Models.create(Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.SYNTHESIZER_DENSE).build(),
                new Generator(45)), 20, 1e-2, 46);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 synthesizer_dense loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention synthesizer_random}: config.json names the kind, the checkpoint holds R. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 47, "--attention", "synthesizer_random");
        assertEquals(AttentionKind.SYNTHESIZER_RANDOM, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 16, 16}, weights.get(LLAMA_R).shape());
    }
}
