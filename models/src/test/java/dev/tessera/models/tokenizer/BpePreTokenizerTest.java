package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class BpePreTokenizerTest {
    @Test
    void byteLevelMapIsGpt2s() {
        int same = 0;
        for (int b = 0; b < 256; b++) {
            char c = ByteLevel.toChar(b);
            if (c == b) {
                same++;
            }
            assertEquals(b, ByteLevel.toByte(c));
        }
        assertEquals(188, same);
        assertEquals('Ġ', ByteLevel.toChar(' '));
        assertEquals('Ċ', ByteLevel.toChar('\n'));
        assertEquals('\u0100', ByteLevel.toChar(0));
        assertEquals('\u0143', ByteLevel.toChar(0xAD));
        assertEquals(-1, ByteLevel.toByte('\u0144'));
        assertEquals(-1, ByteLevel.toByte(' '));
    }

    @Test
    void gpt2Splits() {
        PreTokenizer p = PreTokenizer.gpt2();
        assertEquals(List.of("Hello", ",", " world", "'s", " 123", " ", " x", "  \n"), p.split("Hello, world's 123  x  \n"));
        assertEquals(List.of("I", "'m", " fine", "!!", " 😀"), p.split("I'm fine!! 😀"));
        assertEquals(List.of("int", " x", " =", " 42", ";"), p.split("int x = 42;"));
        // GPT-2 contractions are case-sensitive
        assertEquals(List.of("I", "'", "M"), p.split("I'M"));
        // Unicode whitespace is \s as in Rust (needs UNICODE_CHARACTER_CLASS): NBSP and ideographic space
        assertEquals(List.of("a", "\u00a0", " b", "\u3000", "c"), p.split("a\u00a0 b\u3000c"));
        // letters and numbers by Unicode category, supplementary planes included
        assertEquals(List.of("日本語", " 𝔘𝔫", " ١٢٣"), p.split("日本語 𝔘𝔫 ١٢٣"));
    }

    @Test
    void llama3Splits() {
        PreTokenizer p = PreTokenizer.llama3();
        // digits in groups of at most three; case-insensitive contractions
        assertEquals(List.of("123", "456", "7"), p.split("1234567"));
        assertEquals(List.of("I", "'M", " fine"), p.split("I'M fine"));
        // a letter run may take one leading non-letter, non-newline character
        assertEquals(List.of("Hello", ",", " world", "(\"", "x", "\")"), p.split("Hello, world(\"x\")"));
        assertEquals(List.of("a", "\n\n", "b"), p.split("a\n\nb"));
        assertEquals(List.of("x", ";\n", "   ", " y"), p.split("x;\n    y"));
    }

    @Test
    void prefixSpaceAndEmpty() {
        PreTokenizer p = new PreTokenizer(List.of(), true, true);
        assertEquals(List.of(" Hello", " world"), p.split("Hello world"));
        assertEquals(List.of(), PreTokenizer.gpt2().split(""));
    }
}
