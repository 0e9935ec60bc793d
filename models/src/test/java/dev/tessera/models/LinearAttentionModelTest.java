package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.DeltaNetAttention;
import dev.tessera.nn.attention.LinearAttention;
import dev.tessera.tensor.Generator;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * B3 in whole models: {@code attentionKind LINEAR} builds the elu+1 kernel and {@code DELTANET} the
 * delta-rule kernel (with its β parameters in the state dict); both survive the config.json round
 * trip, and a short training run with each lowers the loss. (Cached decoding equals the full
 * forward for every kind in {@link CachedDecodingTest}.)
 */
class LinearAttentionModelTest {

    @Test
    void configSelectsTheKernelAndRoundTrips() {
        var kinds = Map.of(AttentionKind.LINEAR, LinearAttention.class, AttentionKind.DELTANET, DeltaNetAttention.class);
        for (ModelConfig base : new ModelConfig[] {Fixtures.llama(), Fixtures.gpt2()}) {
            for (var kind : kinds.entrySet()) {
                ModelConfig c = base.toBuilder().attentionKind(kind.getKey()).build();
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
                String name = kind.getKey().name().toLowerCase(java.util.Locale.ROOT);
                assertTrue(c.toHuggingFace().toString().contains("\"attention_kind\":\"" + name + "\""), c.toHuggingFace().toString());
                LanguageModel m = Models.create(c, new Generator(31));
                var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
                assertInstanceOf(kind.getValue(), kernel);
            }
        }
        assertTrue(Models.create(Fixtures.llama().toBuilder().attentionKind(AttentionKind.DELTANET).build(), new Generator(31)).stateDict()
                .keySet().containsAll(Set.of("model.layers.0.self_attn.kernel.beta_weight", "model.layers.0.self_attn.kernel.beta_bias")));
    }

    @Test
    void llamaWithLinearAttentionLearns() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.LINEAR).build();
        double[] loss = Fixtures.train(Models.create(c, new Generator(32)), 20, 1e-2, 33);
        assertTrue(loss[1] < 0.7 * loss[0], "linear-attention Llama loss " + loss[0] + " → " + loss[1]);
    }

    @Test
    void llamaWithDeltaNetLearns() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.DELTANET).build();
        double[] loss = Fixtures.train(Models.create(c, new Generator(34)), 20, 1e-2, 35);
        assertTrue(loss[1] < 0.7 * loss[0], "DeltaNet Llama loss " + loss[0] + " → " + loss[1]);
    }
}
