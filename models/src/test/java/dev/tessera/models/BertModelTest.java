package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** I3's BERT outside the golden fixture: config.json fields, what an encoder refuses, bidirectionality. */
class BertModelTest {

    @Test
    void configJsonHasBertFieldsAndRoundTrips() {
        ModelConfig c = ModelConfig.bert(33, 16, 2, 16, 2, 24).toBuilder().dropout(0.1).build();
        JsonNode o = c.toHuggingFace();
        assertEquals("bert", o.get("model_type").asText());
        assertEquals("BertForMaskedLM", o.get("architectures").get(0).asText());
        assertEquals(16, o.get("hidden_size").asInt());
        assertEquals(2, o.get("num_hidden_layers").asInt());
        assertEquals(2, o.get("num_attention_heads").asInt());
        assertEquals(24, o.get("intermediate_size").asInt());
        assertEquals(16, o.get("max_position_embeddings").asInt());
        assertEquals(2, o.get("type_vocab_size").asInt());
        assertEquals(1e-12, o.get("layer_norm_eps").asDouble());
        assertEquals("gelu", o.get("hidden_act").asText());
        assertEquals(33, o.get("vocab_size").asInt());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        // a plain transformers config.json (no tessera block) reads as the same model
        ((com.fasterxml.jackson.databind.node.ObjectNode) o).remove("tessera");
        assertEquals(c, ModelConfig.fromHuggingFace(o));
    }

    /** A transformers state dict also holds the tied decoder copies and id buffers; they are dropped, the rest loads strictly. */
    @Test
    void loadsATransformersStateDict() {
        ModelConfig c = ModelConfig.bert(20, 8, 1, 8, 2, 12);
        Bert source = new Bert(c, new Generator(1));
        java.util.Map<String, Tensor> hf = new java.util.LinkedHashMap<>(source.stateDict());
        hf.put("cls.predictions.decoder.weight", hf.get("bert.embeddings.word_embeddings.weight"));
        hf.put("cls.predictions.decoder.bias", hf.get("cls.predictions.bias"));
        hf.put("bert.embeddings.position_ids", Tensor.zeros(DType.I64, 1, 8));
        Bert target = new Bert(c, new Generator(2));
        target.loadHuggingFace(hf);
        Tensor ids = Fixtures.ids(3, 1, 8, 20);
        assertEquals(0, Fixtures.maxAbsDiff(source.forward(ids, null).data(), target.forward(ids, null).data()));
    }

    /** ELECTRA's joint loop on one fixed batch: generator and discriminator losses both fall over 15 AdamW steps. */
    @Test
    void electraJointTrainingLowersBothLosses() {
        ModelConfig c = ModelConfig.bert(21, 16, 1, 16, 2, 32);
        Bert gen = new Bert(c, new Generator(1));
        Electra disc = new Electra(c, new Generator(2));
        java.util.List<dev.tessera.autograd.Variable> params = new java.util.ArrayList<>(gen.parameters());
        params.addAll(disc.parameters());
        var opt = new dev.tessera.nn.optim.AdamW(dev.tessera.nn.optim.ParamGroup.all(params), 1e-2);
        long[] text = new long[4 * 16];
        for (int i = 0; i < text.length; i++) {
            text[i] = (i * 7 + i / 16) % 5; // a repeating pattern over 5 of the 20 ordinary ids
        }
        Tensor ids = Tensor.of(text, 4, 16);
        var mlm = new dev.tessera.models.train.MaskedLm(Bert.maskTokenId(c), -1, 0.15, 3);
        double[] first = new double[2]; // means over the first and the last 5 steps
        double[] last = new double[2];
        Generator g = new Generator(4);
        for (int step = 0; step < 15; step++) {
            var m = mlm.mask(ids, step);
            Electra.JointLoss loss = Electra.jointLoss(gen, disc, ids, m.inputs(), m.labels(), null, 50, g);
            opt.zeroGrad();
            loss.total().backward();
            opt.step();
            double[] sums = step < 5 ? first : step >= 10 ? last : null;
            if (sums != null) {
                sums[0] += loss.generator().item() / 5;
                sums[1] += loss.discriminator().item() / 5;
            }
        }
        assertTrue(last[0] < first[0] - 0.5, "generator MLM loss " + first[0] + " -> " + last[0]);
        assertTrue(last[1] < first[1] - 0.1, "discriminator loss " + first[1] + " -> " + last[1]);
    }

    @Test
    void unsupportedTypeVocabIsOneLine() {
        var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromJson("{\"model_type\": \"bert\", \"type_vocab_size\": 3}"));
        assertEquals("config.json: type_vocab_size 3 is not supported (Bert has 2 token types)", e.getMessage());
    }

    @Test
    void encoderRefusesCausalMasksAndCaches() {
        LanguageModel m = Models.create(ModelConfig.bert(20, 8, 1, 8, 2, 12), new Generator(1));
        Tensor ids = Fixtures.ids(2, 1, 8, 20);
        var causal = assertThrows(IllegalArgumentException.class, () -> m.forward(ids, AttentionMask.causalOnly()));
        assertTrue(causal.getMessage().startsWith("Bert: an encoder attends both ways"), causal.getMessage());
        assertThrows(UnsupportedOperationException.class, () -> m.newCaches(1, 8));
    }

    /** Changing the last token changes the first position's logits: attention looks forward too. */
    @Test
    void everyPositionSeesLaterTokens() {
        LanguageModel m = Models.create(ModelConfig.bert(20, 8, 1, 8, 2, 12).toBuilder().dtype(DType.F64).build(), new Generator(1));
        Tensor a = Tensor.of(new long[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 8);
        Tensor b = Tensor.of(new long[] {1, 2, 3, 4, 5, 6, 7, 9}, 1, 8);
        double diff = Fixtures.maxAbsDiff(m.forward(a, null).data().select(1, 0).contiguous(), m.forward(b, null).data().select(1, 0).contiguous());
        assertTrue(diff > 1e-6, "position 0 ignores the last token (diff " + diff + ")");
    }

    /**
     * Every attention kind either runs in the encoder (forward and backward, finite gradients for
     * every parameter that takes part) or is refused in one line: causal-only kernels by the
     * probe, ALiBi by the config (it replaces BERT's learned positions).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(AttentionKind.class)
    void everyAttentionKindRunsBidirectionallyOrIsRefused(AttentionKind kind) {
        ModelConfig.Builder b = ModelConfig.bert(20, 8, 1, 8, 2, 12).toBuilder().attentionKind(kind);
        if (kind == AttentionKind.SLIDING_WINDOW) {
            b.attentionOptions(new dev.tessera.nn.attention.SlidingWindowAttention.Options(3));
        } else if (kind == AttentionKind.TOPK) {
            b.attentionOptions(new dev.tessera.nn.attention.TopKAttention.Options(3));
        }
        if (kind == AttentionKind.ALIBI) {
            assertThrows(IllegalArgumentException.class, () -> b.positional(ModelConfig.Positional.NONE).build());
            return;
        }
        if (kind == AttentionKind.PERCEIVER_AR) { // B23: predicts a decoder's last positions; the config refuses it for bert
            assertThrows(IllegalArgumentException.class, b::build);
            return;
        }
        ModelConfig c = b.build();
        try {
            Bert.checkAttention(c);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().endsWith("is causal-only; an encoder needs a kind that attends both ways (e.g. softmax)")
                    || e.getMessage().endsWith("cannot keep the documents of packed training data apart (no document mask); train it through "
                    + "the API on one document per row"), e.getMessage());
            assertTrue(kind.causal() || e.getMessage().contains("documents"), kind + " is bidirectional: " + e.getMessage());
            return;
        }
        Bert m = (Bert) Models.create(c, new Generator(1));
        m.forward(Fixtures.ids(2, 2, 8, 20), null, Bert.paddingMask(Tensor.of(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, 2, 8)))
                .sum().backward();
        // Synthesizer kinds ignore queries and/or keys by design, so those projections get no gradient
        m.namedParameters().forEach((name, p) -> assertTrue(p.grad() == null
                || java.util.Arrays.stream(p.grad().toDoubleArray()).allMatch(Double::isFinite), kind + ": gradient of " + name));
        assertTrue(m.namedParameters().get("bert.encoder.layer.0.attention.self.value.weight").grad() != null, kind + ": no gradient reached v");
    }

    @Test
    void causalOnlyAttentionKindsAreRefused() {
        ModelConfig c = ModelConfig.bert(20, 8, 1, 8, 2, 12);
        var e = assertThrows(IllegalArgumentException.class, () -> Bert.checkAttention(c.toBuilder().attentionKind(AttentionKind.AVERAGE).build()));
        assertEquals("bert: --attention average is causal-only; an encoder needs a kind that attends both ways (e.g. softmax)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bert.checkAttention(c.toBuilder().attentionKind(AttentionKind.DELTANET).build()));
        Bert.checkAttention(c);
        Bert.checkAttention(c.toBuilder().attentionKind(AttentionKind.COSINE).build());
    }
}
