package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.CosFormerAttention;
import dev.tessera.tensor.Generator;
import org.junit.jupiter.api.Test;

/**
 * B21 cosFormer in whole models: {@code attentionKind COSFORMER} builds the kernel with M = the
 * context length, survives the config.json round trip, and a short training run lowers the loss.
 * (Cached decoding equals the full forward for every causal kind in {@link CachedDecodingTest}.)
 */
class CosFormerModelTest {

    @Test
    void configSelectsTheKernelAndRoundTrips() {
        for (ModelConfig base : new ModelConfig[] {Fixtures.llama(), Fixtures.gpt2()}) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.COSFORMER).build();
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            assertTrue(c.toHuggingFace().toString().contains("\"attention_kind\":\"cosformer\""), c.toHuggingFace().toString());
            LanguageModel m = Models.create(c, new Generator(31));
            var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
            assertEquals(c.contextLength(), assertInstanceOf(CosFormerAttention.class, kernel).options().maxPositions());
        }
    }

    @Test
    void llamaWithCosFormerLearns() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.COSFORMER).build();
        double[] loss = Fixtures.train(Models.create(c, new Generator(32)), 20, 1e-2, 33);
        assertTrue(loss[1] < 0.7 * loss[0], "cosFormer Llama loss " + loss[0] + " → " + loss[1]);
    }
}
