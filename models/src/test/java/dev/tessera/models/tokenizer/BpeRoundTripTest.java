package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class BpeRoundTripTest {
    private static final BpeTokenizer GPT2 = BpeTestCorpus.trained(PreTokenizer.gpt2(), 600);
    private static final BpeTokenizer LLAMA3 = BpeTestCorpus.trained(PreTokenizer.llama3(), 600);

    @Property(tries = 400)
    void gpt2RoundTrips(@ForAll("text") String text) {
        check(GPT2, text);
    }

    @Property(tries = 400)
    void llama3RoundTrips(@ForAll("text") String text) {
        check(LLAMA3, text);
    }

    private static void check(BpeTokenizer tok, String text) {
        int[] ids = tok.encode(text);
        for (int id : ids) {
            assertTrue(id >= 0 && id < tok.vocabSize());
        }
        assertEquals(text, tok.decode(ids));
        // BPE never makes more tokens than bytes
        assertTrue(ids.length <= text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }

    @Provide
    Arbitrary<String> text() {
        Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(40)
                .map(s -> s.codePoints().filter(cp -> cp < 0xD800 || cp > 0xDFFF).collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
        Arbitrary<String> emoji = Arbitraries.of("😀", "👩‍👩‍👧", "🇫🇷", "é", "e\u0301", "中文", "𝔘", "naïve", "ｆｕｌｌ");
        Arbitrary<String> spaces = Arbitraries.of(" ", "  \t", "\n\n\n", "\r\n", "\u00a0", "\u3000", "\u2028", "    ").list().ofMaxSize(5).map(l -> String.join("", l));
        Arbitrary<String> digits = Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(12);
        Arbitrary<String> code = Arbitraries.of("int x = 42;", "for (i = 0; i < n; i++) {", "}", "return a->b;", "\"str\\n\"", "x == y", "'s", "don't", "<|endoftext|>", "<|begin_of_text|>");
        Arbitrary<String> ascii = Arbitraries.strings().ascii().ofMaxLength(20);
        return Arbitraries.oneOf(any, emoji, spaces, digits, code, ascii).list().ofMaxSize(8).map(l -> String.join("", l));
    }
}
