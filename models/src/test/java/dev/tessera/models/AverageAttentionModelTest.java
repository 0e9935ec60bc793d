package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AverageAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * B28 in whole models: {@code attentionKind AVERAGE} builds the average attention network kernel,
 * survives the config.json and Hugging Face config round trips, puts its FFN and gate parameters in
 * the state dict (so checkpoints save them), and a short training run lowers the loss and moves
 * those parameters (so the optimizer trains them). Cached decoding equals the full forward for
 * every kind in {@link CachedDecodingTest}.
 */
class AverageAttentionModelTest {

    private static final Set<String> KERNEL_PARAMS = Set.of("ffn_up_weight", "ffn_up_bias", "ffn_down_weight", "ffn_down_bias",
            "gate_weight", "gate_bias");

    @Test
    void configSelectsTheKernelAndRoundTrips() {
        for (ModelConfig base : new ModelConfig[] {Fixtures.llama(), Fixtures.gpt2()}) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.AVERAGE).build();
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            assertTrue(c.toHuggingFace().toString().contains("\"attention_kind\":\"average\""), c.toHuggingFace().toString());
            LanguageModel m = Models.create(c, new Generator(41));
            var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
            assertInstanceOf(AverageAttention.class, kernel);
        }
        Set<String> keys = Models.create(Fixtures.llama().toBuilder().attentionKind(AttentionKind.AVERAGE).build(), new Generator(41))
                .stateDict().keySet();
        for (String p : KERNEL_PARAMS) {
            assertTrue(keys.contains("model.layers.1.self_attn.kernel." + p), p + " missing from " + keys);
        }
    }

    @Test
    void llamaWithAverageAttentionLearns() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.AVERAGE).build();
        LanguageModel m = Models.create(c, new Generator(42));
        String gate = "model.layers.0.self_attn.kernel.gate_weight";
        Tensor before = m.stateDict().get(gate).copy();
        double[] loss = Fixtures.train(m, 20, 1e-2, 43);
        assertTrue(loss[1] < 0.7 * loss[0], "average-attention Llama loss " + loss[0] + " → " + loss[1]);
        assertTrue(Fixtures.maxAbsDiff(before, m.stateDict().get(gate)) > 1e-4, "the gate weights did not train");
    }
}
