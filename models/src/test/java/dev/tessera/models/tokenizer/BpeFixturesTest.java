package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Compares encodings with Hugging Face {@code tokenizers}, from the fixtures that
 * {@code models/tools/make_tokenizer_fixtures.py} writes into {@code tokenizer-fixtures/}: for each
 * {@code NAME.cases.json} ({@code {"tokenizer": "NAME.tokenizer.json", "cases": [{"text", "ids"}]}}),
 * the Java encoding of every text must equal the Python ids, and decoding must give the text back.
 * Skipped, with the reason printed, where the fixtures have not been generated.
 */
class BpeFixturesTest {
    @Test
    void matchesHuggingFaceTokenizers() throws Exception {
        URL url = BpeFixturesTest.class.getResource("/tokenizer-fixtures");
        List<Path> cases = url == null ? List.of() : list(Path.of(url.toURI()));
        if (cases.isEmpty()) {
            String reason = "BpeFixturesTest skipped: no tokenizer-fixtures/*.cases.json in the test resources "
                    + "(run models/tools/make_tokenizer_fixtures.py where Python 'tokenizers' is installed)";
            System.err.println(reason);
            Assumptions.abort(reason);
        }
        ObjectMapper mapper = new ObjectMapper();
        for (Path file : cases) {
            JsonNode root = mapper.readTree(file.toFile());
            BpeTokenizer tok = TokenizerJson.load(file.resolveSibling(root.get("tokenizer").asText()));
            int n = 0;
            for (JsonNode c : root.get("cases")) {
                String text = c.get("text").asText();
                int[] expected = new int[c.get("ids").size()];
                for (int i = 0; i < expected.length; i++) {
                    expected[i] = c.get("ids").get(i).asInt();
                }
                assertArrayEquals(expected, tok.encode(text), file.getFileName() + " case " + n + ": " + text);
                assertEquals(text, tok.decode(expected), file.getFileName() + " case " + n + " decodes back");
                n++;
            }
        }
    }

    private static List<Path> list(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".cases.json")).sorted().toList();
        }
    }
}
