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
