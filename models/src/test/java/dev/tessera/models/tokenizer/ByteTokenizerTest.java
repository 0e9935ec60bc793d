package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {
    private final ByteTokenizer tok = ByteTokenizer.INSTANCE;

    @Property(tries = 300)
    void roundTripsAnyUnicode(@ForAll("text") String text) {
        int[] ids = tok.encode(text);
        for (int id : ids) {
            assertTrue(id >= 0 && id < tok.vocabSize());
            assertTrue(id != tok.endOfDocument(), "EOD never occurs in UTF-8 text");
        }
        assertEquals(text, tok.decode(ids));
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(ids, tok.encodeUtf8(utf8, 0, utf8.length));
    }

    @Provide
    Arbitrary<String> text() {
        Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(60)
                .map(s -> s.codePoints().filter(cp -> cp < 0xD800 || cp > 0xDFFF).collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString());
        Arbitrary<String> emoji = Arbitraries.of("😀", "👩‍👩‍👧", "🇫🇷", "é", "\u0301", "中文", "𝔘");
        Arbitrary<String> spaces = Arbitraries.of(" ", "  \t", "\n\n\n", "\r\n", "\u00a0", "\u3000").list().ofMaxSize(5).map(l -> String.join("", l));
        Arbitrary<String> ascii = Arbitraries.strings().ascii().ofMaxLength(20);
        return Arbitraries.oneOf(any, emoji, spaces, ascii).list().ofMaxSize(8).map(l -> String.join("", l));
    }

    @Test
    void bytesAndEod() {
        assertArrayEquals(new int[] {0x68, 0xC3, 0xA9}, tok.encode("hé"));
        assertEquals(256, tok.vocabSize());
        assertEquals(0xFF, tok.endOfDocument());
        assertEquals("byte-v1", tok.id());
        assertEquals("a\uFFFDb", tok.decode(new int[] {'a', tok.endOfDocument(), 'b'}), "EOD decodes as a replacement char");
        assertEquals("\uFFFD", tok.decode(new int[] {0xC3}), "truncated sequence decodes as a replacement char");
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {256}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
    }
}
