package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.train.MaskedLm;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.ConditionalFeedForward;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * B24: CoLT5's conditional feed-forward switched on by name ({@code ffnKind CONDITIONAL}, config.json
 * {@code tessera.ffn_kind = "conditional"}) trains in the BERT encoder, round-trips through config.json
 * and is refused by the causal decoders, as {@link EncoderAttentionKindsTest} does for attention kinds.
 */
class EncoderConditionalFeedForwardTest {
    private static final int VOCAB = 20; // id 19 is [MASK]
    private static final int T = 16;

    /** 2 layers, C = 32, heavy width 64, light width 16, 4 of the 16 tokens routed. */
    private static ModelConfig conditional() {
        return ModelConfig.bert(VOCAB, T, 2, 32, 4, 64).toBuilder().ffnKind(FeedForward.Kind.CONDITIONAL)
                .ffnOptions(new ConditionalFeedForward.Options(16, 4)).build();
    }

    private static double heldOutLoss(Bert model, MaskedLm.Masked m) {
        try (var noGrad = GradMode.noGrad()) {
            return EncoderAttentionKindsTest.loss(model, m);
        }
    }

    /** 40 masked-LM steps cut the held-out loss; the routers (reached only through σ(x·r)) get a gradient in every layer. */
    @Test
    void aShortMaskedLmRunLowersTheLossAndTrainsTheRouters() {
        ModelConfig c = conditional();
        Bert model = new Bert(c, new Generator(5));
        MaskedLm objective = new MaskedLm(Bert.maskTokenId(c), 16, 0.3, 7); // 16 never occurs, so no token is an EOD
        Tensor ids = EncoderAttentionKindsTest.counting(); // a masked token is its left neighbour + 1
        MaskedLm.Masked heldOut = objective.mask(ids, -1);
        double before = heldOutLoss(model, heldOut);
        AdamW opt = new AdamW(ParamGroup.all(model.parameters()), 1e-2);
        for (int step = 0; step < 40; step++) {
            opt.zeroGrad();
            MaskedLm.Masked m = objective.mask(ids, step);
            Losses.crossEntropy(model.forward(m.inputs(), AttentionMask.NONE), m.labels()).backward();
            for (int l = 0; l < c.layers() && step == 0; l++) {
                Variable router = model.namedParameters().get("bert.encoder.layer." + l + ".conditional_ffn.router");
                assertTrue(router.grad() != null && router.grad().abs().sum().item() > 0, "layer " + l + "'s router got no gradient");
            }
            opt.step();
        }
        double after = heldOutLoss(model, heldOut);
        assertTrue(after < 0.7 * before, "conditional ffn: held-out masked-LM loss " + before + " → " + after);
    }

    @Test
    void bertNamesTheConditionalBranchesAndKeepsHuggingFaceNamesForTheMlp() {
        Set<String> names = new Bert(conditional(), new Generator(1)).namedParameters().keySet();
        String layer = "bert.encoder.layer.0.";
        assertTrue(names.containsAll(Set.of(layer + "conditional_ffn.router", layer + "conditional_ffn.light.fc1.weight",
                layer + "conditional_ffn.heavy.fc2.bias", layer + "output.LayerNorm.weight")), names.toString());
        assertFalse(names.contains(layer + "intermediate.dense.weight") || names.contains(layer + "output.dense.weight"));
        Set<String> plain = new Bert(ModelConfig.bert(VOCAB, T, 2, 32, 4, 64), new Generator(1)).namedParameters().keySet();
        assertTrue(plain.containsAll(Set.of(layer + "intermediate.dense.weight", layer + "output.dense.weight")), plain.toString());
        assertTrue(plain.stream().noneMatch(n -> n.contains("conditional_ffn")));
    }

    @Test
    void configJsonRoundTripsTheKindAndItsOptions() {
        ModelConfig c = conditional().toBuilder().attentionKind(AttentionKind.CONDITIONAL).build();
        ObjectNode json = c.toHuggingFace();
        assertEquals("conditional", json.get("tessera").get("ffn_kind").asText());
        assertEquals(16, json.get("tessera").get("ffn_options").get("light_hidden").asInt());
        assertEquals(4, json.get("tessera").get("ffn_options").get("routed").asInt());
        assertEquals(64, json.get("intermediate_size").asInt()); // the heavy branch's width
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        ModelConfig plain = ModelConfig.bert(VOCAB, T, 2, 32, 4, 64);
        assertFalse(plain.toHuggingFace().get("tessera").has("ffn_options"));
        assertEquals(plain, ModelConfig.fromJson(plain.toJson()));
        ModelConfig defaults = plain.toBuilder().ffnKind(FeedForward.Kind.CONDITIONAL).build();
        assertEquals(new ConditionalFeedForward.Options(16, 16), defaults.ffnOptions());
        assertEquals(null, defaults.toBuilder().ffnKind(FeedForward.Kind.MLP).build().ffnOptions());
    }

    @Test
    void oneLineErrors() {
        assertEquals("ModelConfig: ffn conditional is bidirectional only; llama is a causal decoder", assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.llama(VOCAB, T, 1, 32, 4, 4, 64).toBuilder().ffnKind(FeedForward.Kind.CONDITIONAL).build()).getMessage());
        assertEquals("ModelConfig: ffn conditional is bidirectional only; gpt2 is a causal decoder", assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.gpt2(VOCAB, T, 1, 32, 4).toBuilder().ffnKind(FeedForward.Kind.CONDITIONAL).build()).getMessage());
        assertEquals("ModelConfig: ffnOptions are for ffn conditional, moe, pkm or delight, got ffn mlp", assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.bert(VOCAB, T, 1, 32, 4, 64).toBuilder().ffnOptions(new ConditionalFeedForward.Options(8, 2)).build())
                .getMessage());
        assertEquals("bert: ffn conditional routes tokens across the whole row, so it cannot keep the documents of packed training data"
                + " apart; train it through the API on one document per row", assertThrows(IllegalArgumentException.class,
                () -> Bert.checkAttention(conditional())).getMessage());
        ObjectNode json = conditional().toHuggingFace();
        ((ObjectNode) json.get("tessera").get("ffn_options")).put("routed", 0);
        assertEquals("config.json: tessera.ffn_options: ffn conditional: options light_hidden and routed must be >= 1, got light_hidden=16"
                + " routed=0", assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json)).getMessage());
        ((ObjectNode) json.get("tessera")).put("ffn_options", 3);
        assertEquals("config.json: tessera.ffn_options must be {\"light_hidden\": h, \"routed\": m}, got 3",
                assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json)).getMessage());
    }
}
