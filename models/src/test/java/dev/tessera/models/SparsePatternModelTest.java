package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.DilatedAttention;
import dev.tessera.nn.attention.SlidingWindowAttention;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.attention.SparseTransformerAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The causal position-pattern kinds in whole models (B6 strided, fixed, GPT-3 alternating; B7 dilated): switched
 * on by name per layer, saved in config.json, and a short run with each lowers the loss. (Cached
 * decoding == full forward is covered for every kind by {@link CachedDecodingTest}, the {@code --attention}
 * names by {@code cli.AttentionOptionsTest}.)
 */
class SparsePatternModelTest {
    private static final List<AttentionKind> KINDS = List.of(AttentionKind.STRIDED, AttentionKind.FIXED, AttentionKind.ALTERNATING,
            AttentionKind.DILATED);

    private static ModelConfig with(ModelConfig base, AttentionKind kind) {
        return base.toBuilder().attentionKind(kind).build();
    }

    private static AttentionKernel kernel(LanguageModel m, int layer) {
        return m instanceof Llama l ? l.blocks().get(layer).attention().kernel() : ((GPT2) m).blocks().get(layer).attention().kernel();
    }

    /** Alternating: layer 0 dense, layer 1 banded, in both architectures; strided, fixed and dilated in every layer. */
    @Test
    void kernelsPerLayer() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            LanguageModel alt = Models.create(with(base, AttentionKind.ALTERNATING), new Generator(51));
            assertInstanceOf(SoftmaxAttention.class, kernel(alt, 0));
            assertInstanceOf(SlidingWindowAttention.class, kernel(alt, 1));
            for (AttentionKind kind : List.of(AttentionKind.STRIDED, AttentionKind.FIXED)) {
                LanguageModel m = Models.create(with(base, kind), new Generator(51));
                for (int layer = 0; layer < base.layers(); layer++) {
                    assertEquals(kind.name(), assertInstanceOf(SparseTransformerAttention.class, kernel(m, layer)).pattern().name());
                }
            }
            LanguageModel dilated = Models.create(with(base, AttentionKind.DILATED), new Generator(51));
            assertEquals(AttentionKind.DILATED.defaultOptions(), assertInstanceOf(DilatedAttention.class, kernel(dilated, 1)).options());
        }
    }

    /**
     * The pattern changes what a model computes; B6's reach (l = W = 8) leaves the first positions as
     * they are, while LongNet's overlapping configurations reweight keys from the start.
     */
    @Test
    void patternsChangeLaterPositionsOnly() {
        Tensor ids = Fixtures.ids(52, 2, 16, Fixtures.llama().vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = Models.create(Fixtures.llama(), new Generator(53)).forward(ids, null).data();
            for (AttentionKind kind : KINDS) {
                Tensor sparse = Models.create(with(Fixtures.llama(), kind), new Generator(53)).forward(ids, null).data();
                if (kind != AttentionKind.DILATED) {
                    assertTrue(Fixtures.maxAbsDiff(full.narrow(1, 0, 7), sparse.narrow(1, 0, 7)) < 1e-5, kind + ": the first positions see everything");
                }
                assertTrue(Fixtures.maxAbsDiff(full, sparse) > 1e-4, kind + " must change later positions");
            }
        }
    }

    @Test
    void configJsonRoundTrip() {
        for (AttentionKind kind : KINDS) {
            for (ModelConfig c : List.of(with(Fixtures.llama(), kind), with(Fixtures.gpt2(), kind))) {
                assertTrue(c.toJson().contains("\"" + kind.name().toLowerCase(java.util.Locale.ROOT) + "\""), c.toJson());
                assertEquals(c, ModelConfig.fromJson(c.toJson()));
                assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            }
        }
        // options other than the defaults are stored in tessera.attention_options and read back
        ModelConfig dilated = Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.DILATED)
                .attentionOptions(new DilatedAttention.Options("2,8", "1,4", false)).build();
        assertEquals("2,8", dilated.toHuggingFace().get("tessera").get("attention_options").get("segments").asText());
        assertEquals(dilated, ModelConfig.fromJson(dilated.toJson()));
        ModelConfig fixed = Fixtures.llama().toBuilder().attentionKind(AttentionKind.FIXED)
                .attentionOptions(AttentionKind.FIXED.options(java.util.Map.of("stride", 4, "summary", 1))).build();
        assertEquals(fixed, ModelConfig.fromHuggingFace(fixed.toHuggingFace()));
        assertEquals(4, ((SparseTransformerAttention) kernel(Models.create(fixed, new Generator(1)), 0)).stride());
    }

    /** One architecture per kind (both are covered across the kinds), 20 steps each. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        List<ModelConfig> bases = List.of(Fixtures.llama(), Fixtures.gpt2());
        for (int n = 0; n < KINDS.size(); n++) {
            ModelConfig c = with(bases.get(n % 2), KINDS.get(n));
            double[] loss = Fixtures.train(Models.create(c, new Generator(54 + n)), 20, 1e-2, 60 + n);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + " " + c.attentionKind() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    /** B8 blockwise attention looks ahead: the causal decoders refuse it with one line (its training test is nn's BlockwiseAttentionTest). */
    @Test
    void decodersRefuseTheBidirectionalBlockwiseKind() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            var e = assertThrows(IllegalArgumentException.class, () -> with(base, AttentionKind.BLOCKWISE));
            assertEquals("ModelConfig: attention blockwise is bidirectional only; " + base.architecture().name().toLowerCase(java.util.Locale.ROOT)
                    + " is a causal decoder", e.getMessage());
        }
    }
}
