package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KeyNormAttention;
import dev.tessera.nn.attention.MemoryEfficientAttention;
import dev.tessera.nn.attention.PerformerAttention;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.ALiBiAttention;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every config switch changes the built model, and both architectures learn. */
class ConfigSwitchTest {

    private static LanguageModel build(ModelConfig c) {
        LanguageModel m = Models.create(c, new Generator(21));
        m.module().eval();
        return m;
    }

    private static Set<String> names(ModelConfig c) {
        return build(c).stateDict().keySet();
    }

    private static Tensor logits(ModelConfig c) {
        try (var s = GradMode.noGrad()) {
            return build(c).forward(Fixtures.ids(22, 2, 8, c.vocabSize()), null).data();
        }
    }

    private static void assertChangesLogits(ModelConfig base, ModelConfig changed) {
        assertTrue(Fixtures.maxAbsDiff(logits(base), logits(changed)) > 1e-5, "switch did not change the logits: " + changed);
    }

    @Test
    void llamaStructuralSwitches() {
        ModelConfig l = Fixtures.llama();
        assertTrue(names(l.toBuilder().qkNorm(true).build()).containsAll(Set.of("model.layers.0.self_attn.q_norm.weight",
                "model.layers.0.self_attn.k_norm.weight")));
        assertFalse(names(l).contains("model.layers.0.self_attn.q_norm.weight"));
        assertFalse(names(l.toBuilder().tieEmbeddings(true).build()).contains("lm_head.weight"));
        assertTrue(names(l.toBuilder().bias(true).build()).contains("model.layers.1.self_attn.q_proj.bias"));
        assertTrue(names(l.toBuilder().normKind(NormKind.LAYER_NORM).bias(true).build()).contains("model.norm.bias"));
        Set<String> post = names(l.toBuilder().normPlacement(NormPlacement.POST).build());
        assertTrue(post.contains("model.layers.0.post_feedforward_layernorm.weight") && !post.contains("model.norm.weight"), post.toString());
        assertTrue(names(l.toBuilder().normPlacement(NormPlacement.SANDWICH).build()).contains("model.layers.0.pre_feedforward_layernorm.weight"));
        assertTrue(names(l.toBuilder().ffnKind(FeedForward.Kind.MLP).activation(Activation.GELU_TANH).build())
                .contains("model.layers.0.mlp.fc1.weight"));
        assertTrue(names(l.toBuilder().positional(ModelConfig.Positional.LEARNED).build()).contains("model.embed_positions.weight"));
        assertTrue(names(l.toBuilder().attentionKind(AttentionKind.KEYNORM).build()).contains("model.layers.0.self_attn.kernel.temperature"));
        assertTrue(names(l.toBuilder().attentionKind(AttentionKind.PERFORMER).build())
                .contains("model.layers.0.self_attn.kernel.projection_matrix"));
    }

    @Test
    void attentionKindPicksTheKernel() {
        var expected = java.util.Map.ofEntries(java.util.Map.entry(AttentionKind.SOFTMAX, SoftmaxAttention.class),
                java.util.Map.entry(AttentionKind.KEYNORM, KeyNormAttention.class), java.util.Map.entry(AttentionKind.PERFORMER, PerformerAttention.class),
                java.util.Map.entry(AttentionKind.MEMORY_EFFICIENT, MemoryEfficientAttention.class),
                java.util.Map.entry(AttentionKind.ALIBI, ALiBiAttention.class), java.util.Map.entry(AttentionKind.SLIDING_WINDOW, SlidingWindowAttention.class),
                java.util.Map.entry(AttentionKind.COSINE, dev.tessera.nn.attention.CosineAttention.class),
                java.util.Map.entry(AttentionKind.LINEAR, dev.tessera.nn.attention.LinearAttention.class),
                java.util.Map.entry(AttentionKind.DELTANET, dev.tessera.nn.attention.DeltaNetAttention.class),
                java.util.Map.entry(AttentionKind.AFT, dev.tessera.nn.attention.AftAttention.class),
                java.util.Map.entry(AttentionKind.TOPK, dev.tessera.nn.attention.TopKAttention.class),
                java.util.Map.entry(AttentionKind.AVERAGE, dev.tessera.nn.attention.AverageAttention.class),
                java.util.Map.entry(AttentionKind.SYNTHESIZER_RANDOM, dev.tessera.nn.attention.SynthesizerAttention.class),
                java.util.Map.entry(AttentionKind.SYNTHESIZER_DENSE, dev.tessera.nn.attention.SynthesizerAttention.class),
                java.util.Map.entry(AttentionKind.ADAPTIVE_SPAN, dev.tessera.nn.attention.AdaptiveSpanAttention.class),
                java.util.Map.entry(AttentionKind.CLUSTERED, dev.tessera.nn.attention.ClusteredAttention.class),
                java.util.Map.entry(AttentionKind.LUNA, dev.tessera.nn.attention.LunaAttention.class),
                java.util.Map.entry(AttentionKind.CONDITIONAL, dev.tessera.nn.attention.ConditionalAttention.class),
                java.util.Map.entry(AttentionKind.TALKING_HEADS, dev.tessera.nn.attention.TalkingHeadsAttention.class),
                java.util.Map.entry(AttentionKind.REALFORMER, dev.tessera.nn.attention.RealFormerAttention.class),
                java.util.Map.entry(AttentionKind.GAUSSIAN_KEYS, dev.tessera.nn.attention.GaussianKeysAttention.class),
                java.util.Map.entry(AttentionKind.NORMALIZED, dev.tessera.nn.attention.NormalizedAttention.class),
                java.util.Map.entry(AttentionKind.COLLABORATIVE, dev.tessera.nn.attention.CollaborativeAttention.class),
                java.util.Map.entry(AttentionKind.RETNET, dev.tessera.nn.attention.RetentionAttention.class),
                java.util.Map.entry(AttentionKind.GAU, dev.tessera.nn.attention.GauAttention.class),
                java.util.Map.entry(AttentionKind.VQ, dev.tessera.nn.attention.VqAttention.class),
                java.util.Map.entry(AttentionKind.STRIDED, dev.tessera.nn.attention.SparseTransformerAttention.class),
                java.util.Map.entry(AttentionKind.FIXED, dev.tessera.nn.attention.SparseTransformerAttention.class),
                java.util.Map.entry(AttentionKind.ALTERNATING, SlidingWindowAttention.class), // block 1 is odd: banded
                java.util.Map.entry(AttentionKind.DILATED, dev.tessera.nn.attention.DilatedAttention.class),
                java.util.Map.entry(AttentionKind.BLOCKWISE, dev.tessera.nn.attention.BlockwiseAttention.class),
                java.util.Map.entry(AttentionKind.XCIT, dev.tessera.nn.attention.XcitAttention.class),
                java.util.Map.entry(AttentionKind.NEIGHBORHOOD, dev.tessera.nn.attention.NeighborhoodAttention.class),
                java.util.Map.entry(AttentionKind.LONG_SHORT, dev.tessera.nn.attention.LongShortAttention.class),
                java.util.Map.entry(AttentionKind.NYSTROM, dev.tessera.nn.attention.NystromAttention.class),
                java.util.Map.entry(AttentionKind.COSFORMER, dev.tessera.nn.attention.CosFormerAttention.class),
                java.util.Map.entry(AttentionKind.SINKFORMER, dev.tessera.nn.attention.SinkformerAttention.class),
                java.util.Map.entry(AttentionKind.SOFT, dev.tessera.nn.attention.SoftAttention.class),
                java.util.Map.entry(AttentionKind.SKYFORMER, dev.tessera.nn.attention.SkyformerAttention.class),
                java.util.Map.entry(AttentionKind.PERCEIVER, dev.tessera.nn.attention.PerceiverAttention.class),
                java.util.Map.entry(AttentionKind.PERCEIVER_AR, SoftmaxAttention.class));
        for (AttentionKind kind : AttentionKind.values()) { // every kind must be in the map
            assertTrue(expected.containsKey(kind), "ConfigSwitchTest's map lacks " + kind);
            if (!kind.causal()) { // bidirectional only: the decoders refuse it in one line
                var mha = dev.tessera.nn.attention.MultiHeadAttention.Config.llama(16, 2, 2, 8).withKind(kind);
                assertInstanceOf(expected.get(kind), kind.create(mha, new Generator(1))); // the kind makes its kernel for encoders
                var e = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().attentionKind(kind).build());
                assertEquals("ModelConfig: attention " + kind.configName() + " is bidirectional only; llama is a causal decoder",
                        e.getMessage());
                continue;
            }
            var pos = kind == AttentionKind.ALIBI ? ModelConfig.Positional.NONE : ModelConfig.Positional.ROPE_HALF_SPLIT;
            Record options = kind == AttentionKind.SLIDING_WINDOW ? new SlidingWindowAttention.Options(2)
                    : kind == AttentionKind.TOPK ? new dev.tessera.nn.attention.TopKAttention.Options(2) : kind.defaultOptions();
            Llama llama = (Llama) build(Fixtures.llama().toBuilder().attentionKind(kind).attentionOptions(options).positional(pos).build());
            assertInstanceOf(expected.get(kind), llama.blocks().get(1).attention().kernel());
            var gpos = kind == AttentionKind.ALIBI ? ModelConfig.Positional.NONE : ModelConfig.Positional.LEARNED;
            GPT2 gpt2 = (GPT2) build(Fixtures.gpt2().toBuilder().attentionKind(kind).attentionOptions(options).positional(gpos).build());
            assertInstanceOf(expected.get(kind), gpt2.blocks().get(1).attention().kernel());
        }
    }

    @Test
    void llamaNumericSwitchesChangeTheLogits() {
        ModelConfig l = Fixtures.llama();
        assertChangesLogits(l, l.toBuilder().activation(Activation.GELU_TANH).build());
        assertChangesLogits(l, l.toBuilder().normKind(NormKind.LAYER_NORM).build());
        assertChangesLogits(l, l.toBuilder().positional(ModelConfig.Positional.ROPE_INTERLEAVED).build());
        assertChangesLogits(l, l.toBuilder().ropeTheta(500000).build());
        assertChangesLogits(l, l.toBuilder().positional(ModelConfig.Positional.SINUSOIDAL).build());
        assertChangesLogits(l, l.toBuilder().positional(ModelConfig.Positional.NONE).build());
        assertChangesLogits(l, l.toBuilder().attentionSoftCap(0.05).build());
        assertChangesLogits(l, l.toBuilder().initStd(0.2).build());
        ModelConfig post = l.toBuilder().normPlacement(NormPlacement.POST).build();
        assertChangesLogits(post, post.toBuilder().deepNorm(true).build());
        Tensor capped = logits(l.toBuilder().initStd(1).finalSoftCap(0.5).build());
        assertTrue(Fixtures.maxAbsDiff(capped, Tensor.zeros(capped.shape())) <= 0.5);
        assertEquals(DType.F64, logits(l.toBuilder().dtype(DType.F64).build()).dtype());
        assertEquals(DType.BF16, logits(l.toBuilder().dtype(DType.BF16).build()).dtype());
        assertEquals(DType.BF16, logits(Fixtures.gpt2().toBuilder().dtype(DType.BF16).build()).dtype());
        // z-loss is the trainer's term: it leaves the model as it is
        assertEquals(0, Fixtures.maxAbsDiff(logits(l), logits(l.toBuilder().zLoss(1e-4).build())));
    }

    @Test
    void dropoutActsOnlyInTraining() {
        LanguageModel m = Models.create(Fixtures.gpt2().toBuilder().dropout(0.3).build(), new Generator(23));
        Tensor ids = Fixtures.ids(24, 2, 8, 40);
        assertNotEquals(0.0, Fixtures.maxAbsDiff(m.forward(ids, null).data(), m.forward(ids, null).data()));
        m.module().eval();
        assertEquals(0.0, Fixtures.maxAbsDiff(m.forward(ids, null).data(), m.forward(ids, null).data()));
    }

    @Test
    void gpt2Switches() {
        ModelConfig g = Fixtures.gpt2();
        assertTrue(names(g.toBuilder().qkNorm(true).build()).contains("transformer.h.0.attn.q_norm.weight"));
        assertTrue(names(g.toBuilder().tieEmbeddings(false).build()).contains("lm_head.weight"));
        assertFalse(names(g.toBuilder().positional(ModelConfig.Positional.NONE).build()).contains("transformer.wpe.weight"));
        assertFalse(names(g.toBuilder().normPlacement(NormPlacement.POST).build()).contains("transformer.ln_f.weight"));
        assertFalse(names(g.toBuilder().bias(false).build()).contains("transformer.h.0.attn.c_attn.bias"));
        ModelConfig wide = g.toBuilder().initStd(0.3).build(); // GELU erf vs tanh differ by < 1e-3: make activations large
        assertChangesLogits(wide, wide.toBuilder().activation(Activation.GELU_ERF).build());
        assertChangesLogits(g, g.toBuilder().normKind(NormKind.RMS_NORM).build());
        ModelConfig post = g.toBuilder().normPlacement(NormPlacement.POST).build();
        assertChangesLogits(post, post.toBuilder().deepNorm(true).build());
    }

    /** D7: GPT-2's c_proj weights start with std 0.02/√(2L); the other matrices with 0.02. */
    @Test
    void gpt2ScalesResidualProjections() {
        LanguageModel m = Models.create(ModelConfig.gpt2(40, 16, 8, 128, 4), new Generator(25));
        double proj = std(m.stateDict().get("transformer.h.3.mlp.c_proj.weight"));
        double fc = std(m.stateDict().get("transformer.h.3.mlp.c_fc.weight"));
        assertEquals(0.02 / 4, proj, 0.0005);
        assertEquals(0.02, fc, 0.001);
    }

    private static double std(Tensor t) {
        double[] v = t.toDoubleArray();
        double sq = 0;
        for (double x : v) {
            sq += x * x;
        }
        return Math.sqrt(sq / v.length);
    }

    @Test
    void llamaLearns() {
        double[] loss = Fixtures.train(Models.create(Fixtures.llama().toBuilder().qkNorm(true).zLoss(1e-4).build(), new Generator(26)),
                20, 1e-2, 27);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama loss " + loss[0] + " → " + loss[1]);
    }

    @Test
    void gpt2Learns() {
        double[] loss = Fixtures.train(Models.create(Fixtures.gpt2(), new Generator(28)), 20, 1e-2, 29);
        assertTrue(loss[1] < 0.7 * loss[0], "GPT-2 loss " + loss[0] + " → " + loss[1]);
    }
}
