package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class BpeTokenizerJsonTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** The hand-made tokenizer.json as a tree, edited by {@code edit}, then parsed. */
    private static BpeTokenizer edited(Consumer<ObjectNode> edit) {
        ObjectNode root = (ObjectNode) MAPPER.valueToTree(parseTree(TokenizerJson.toJson(BpeHandMadeTest.handMade())));
        edit.accept(root);
        return TokenizerJson.parse(root.toString());
    }

    private static Object parseTree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void rejects(String expected, Consumer<ObjectNode> edit) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> edited(edit));
        assertEquals(expected, e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    private static ObjectNode model(ObjectNode root) {
        return (ObjectNode) root.get("model");
    }

    @Test
    void malformedFilesNameTheProblem() {
        rejects("tokenizer.json: model.merges[3] is not a pair", r -> ((ArrayNode) model(r).get("merges")).set(3, MAPPER.getNodeFactory().numberNode(7)));
        rejects("tokenizer.json: model.merges[2] is not a pair (expected \"left right\", got \"h e l\")",
                r -> ((ArrayNode) model(r).get("merges")).set(2, MAPPER.getNodeFactory().textNode("h e l")));
        rejects("tokenizer.json: unsupported model type WordPiece (only BPE is supported)", r -> model(r).put("type", "WordPiece"));
        rejects("tokenizer.json: missing field model", r -> r.remove("model"));
        rejects("tokenizer.json: missing field model.vocab", r -> model(r).remove("vocab"));
        rejects("tokenizer.json: missing field model.merges", r -> model(r).remove("merges"));
        rejects("tokenizer.json: model.vocab[\"ll\"] is not a non-negative integer", r -> ((ObjectNode) model(r).get("vocab")).put("ll", "x"));
        rejects("tokenizer.json: model.merges[0] refers to unknown token \"q\u0100\"",
                r -> ((ArrayNode) model(r).get("merges")).set(0, MAPPER.getNodeFactory().textNode("q\u0100 l")));
        rejects("tokenizer.json: model.merges[10] makes \"aa\", which is not in the vocab", r -> ((ObjectNode) model(r).get("vocab")).remove("aa"));
        rejects("tokenizer.json: unsupported normalizer NFC (only a null normalizer is supported)", r -> r.putObject("normalizer").put("type", "NFC"));
        rejects("tokenizer.json: unsupported pre_tokenizer type Whitespace (expected ByteLevel, or a Sequence of Split steps ending in ByteLevel)",
                r -> r.putObject("pre_tokenizer").put("type", "Whitespace"));
        rejects("tokenizer.json: unsupported decoder type WordPiece (expected ByteLevel)", r -> r.putObject("decoder").put("type", "WordPiece"));
        rejects("tokenizer.json: missing field added_tokens[0].id", r -> ((ObjectNode) r.get("added_tokens").get(0)).remove("id"));
        rejects("tokenizer.json: added token \"<|endoftext|>\" has id 5, which vocab gives to \"\u0105\"",
                r -> ((ObjectNode) r.get("added_tokens").get(0)).put("id", 5));
        rejects("tokenizer.json: model.dropout 0.1 is not supported (BPE dropout)", r -> model(r).put("dropout", 0.1));
        rejects("tokenizer.json: model.vocab id 7 is used by both \"\u0107\" and \"ll\"", r -> ((ObjectNode) model(r).get("vocab")).put("ll", 7));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerJson.parse("{\"model\": [1,"));
        assertEquals(true, e.getMessage().startsWith("tokenizer.json: not valid JSON ("), e.getMessage());
        assertEquals("tokenizer.json: the top level is not a JSON object", assertThrows(IllegalArgumentException.class, () -> TokenizerJson.parse("[]")).getMessage());
    }

    @Test
    void mergesAsPairsAndPostProcessorIgnored() {
        BpeTokenizer tok = edited(r -> {
            ArrayNode pairs = MAPPER.createArrayNode();
            for (var m : model(r).get("merges")) {
                String[] p = m.asText().split(" ");
                pairs.addArray().add(p[0]).add(p[1]);
            }
            model(r).set("merges", pairs);
            r.putObject("post_processor").put("type", "TemplateProcessing");
        });
        assertArrayEquals(new int[] {260, 264}, tok.encode("hello world"));
        assertEquals(BpeHandMadeTest.handMade().id(), tok.id());
    }

    @Test
    void llama3LayoutAndIgnoreMerges() {
        BpeTokenizer tok = edited(r -> {
            ObjectNode seq = r.putObject("pre_tokenizer");
            seq.put("type", "Sequence");
            ArrayNode steps = seq.putArray("pretokenizers");
            ObjectNode split = steps.addObject();
            split.put("type", "Split");
            split.putObject("pattern").put("Regex", PreTokenizer.LLAMA3_PATTERN);
            split.put("behavior", "Isolated");
            split.put("invert", false);
            steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
            // "hel" → he (258) + l; with ignore_merges a word that is a vocab entry is taken whole
            ((ObjectNode) model(r).get("vocab")).put("hel", 268);
            ((ArrayNode) r.get("added_tokens")).addObject().put("id", 269).put("content", "<|begin_of_text|>").put("special", true);
            model(r).put("ignore_merges", true);
        });
        assertEquals(PreTokenizer.llama3(), tok.preTokenizer());
        assertArrayEquals(new int[] {268}, tok.encode("hel"));
        assertArrayEquals(new int[] {269, 258, 256}, tok.encode("<|begin_of_text|>hell"));
        assertArrayEquals(new int[] {'1', '2', '3', '4'}, tok.encode("1234"), "digits 123|4 are separate words, no merges");
        assertEquals(270, tok.vocabSize());
        BpeTokenizer back = TokenizerJson.parse(TokenizerJson.toJson(tok));
        assertEquals(tok.id(), back.id());
        assertEquals(tok.preTokenizer(), back.preTokenizer());
        rejects("tokenizer.json: pre_tokenizer.pretokenizers[0].behavior \"Removed\" is not supported (only Isolated)", r -> {
            ObjectNode seq = r.putObject("pre_tokenizer");
            seq.put("type", "Sequence");
            seq.putArray("pretokenizers").addObject().put("type", "Split").put("behavior", "Removed").putObject("pattern").put("Regex", "x");
        });
    }

    @Test
    void endOfDocumentChoice() {
        BpeTokenizer none = TokenizerJson.parse(TokenizerJson.toJson(BpeHandMadeTest.handMade()), null);
        assertThrows(IllegalStateException.class, none::endOfDocument);
        assertEquals(267, TokenizerJson.parse(TokenizerJson.toJson(BpeHandMadeTest.handMade())).endOfDocument());
        assertEquals("tokenizer.json: end-of-document token \"</s>\" is neither an added token nor in the vocab",
                assertThrows(IllegalArgumentException.class, () -> TokenizerJson.parse(TokenizerJson.toJson(BpeHandMadeTest.handMade()), "</s>")).getMessage());
    }
}
