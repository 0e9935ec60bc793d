package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The hand-made {@code handmade-tokenizer.json}: the 256 byte tokens with id = byte value, then
 * eleven merges (rank: result = id) — 0 {@code l l}=256, 1 {@code Ġ w}=257, 2 {@code h e}=258,
 * 3 {@code ll o}=259, 4 {@code he llo}=260, 5 {@code Ġw o}=261, 6 {@code r l}=262,
 * 7 {@code Ġwo rl}=263, 8 {@code Ġworl d}=264, 9 {@code e l}=265, 10 {@code a a}=266 — and the
 * special token {@code <|endoftext|>}=267. Each expected encoding below is worked out by hand.
 */
class BpeHandMadeTest {
    static BpeTokenizer handMade() {
        try {
            return TokenizerJson.load(Path.of(BpeHandMadeTest.class.getResource("/handmade-tokenizer.json").toURI()));
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private final BpeTokenizer tok = handMade();

    @Test
    void shape() {
        assertEquals(268, tok.vocabSize());
        assertEquals(267, tok.endOfDocument());
        assertEquals(11, tok.merges().size());
        assertEquals("Ġworld", tok.token(264));
    }

    @Test
    void mergesApplyByRank() {
        // "hello": h e l l o -> (ll, rank 0) h e ll o -> (he, 2) he ll o -> (llo, 3) he llo -> (hello, 4).
        // " world": Ġ w o r l d -> Ġw (1) -> Ġwo (5) -> rl (6) -> Ġworl (7) -> Ġworld (8).
        assertArrayEquals(new int[] {260, 264}, tok.encode("hello world"));
        // "hel": he (rank 2) beats el (rank 9), then "he l" has no merge
        assertArrayEquals(new int[] {258, 108}, tok.encode("hel"));
        // "hell": ll (0) first, then he (2); "he ll" is no merge
        assertArrayEquals(new int[] {258, 256}, tok.encode("hell"));
        // "Hello": no "H e" merge; ll (0), then llo (3); "e llo" is no merge. "!" is its own word.
        assertArrayEquals(new int[] {72, 101, 259, 264, 33}, tok.encode("Hello world!"));
        // one word: merges never see the "Ġ" that "world" lacks here: w o rl d
        assertArrayEquals(new int[] {260, 119, 111, 262, 100}, tok.encode("helloworld"));
    }

    @Test
    void equalRanksMergeLeftmostFirst() {
        // a a a a a: the leftmost "a a" merges first, then the next free one: aa aa a
        assertArrayEquals(new int[] {266, 266, 97}, tok.encode("aaaaa"));
        assertArrayEquals(new int[] {266, 97}, tok.encode("aaa"));
    }

    @Test
    void whitespaceRunsFollowGpt2Regex() {
        // "a  b" -> "a", " " (\s+(?!\S) leaves the last space to the next word), " b"
        assertArrayEquals(new int[] {97, 32, 32, 98}, tok.encode("a  b"));
        // trailing spaces are one word; newline is byte 0x0A (id 10)
        assertArrayEquals(new int[] {97, 32, 32, 10}, tok.encode("a  \n"));
    }

    @Test
    void specialTokensAreSplitOutFirst() {
        assertArrayEquals(new int[] {260, 267, 119, 111, 262, 100}, tok.encode("hello<|endoftext|>world"));
        assertArrayEquals(new int[] {267, 267}, tok.encode("<|endoftext|><|endoftext|>"));
        // an incomplete special token is ordinary text: "<|" and "endoftext" and "|"
        assertArrayEquals(new int[] {60, 124, 101, 110, 100, 111, 102, 116, 101, 120, 116, 124}, tok.encode("<|endoftext|"));
        assertEquals("a<|endoftext|>b", tok.decode(new int[] {97, 267, 98}));
    }

    @Test
    void bytesFallBackForUnseenCharacters() {
        // é = C3 A9; byte-level chars 'Ã' and '©' are printable, so id = byte value
        assertArrayEquals(new int[] {0xC3, 0xA9}, tok.encode("é"));
        // " 😀" is one word (" ?[^\s\p{L}\p{N}]+"): 20 F0 9F 98 80
        assertArrayEquals(new int[] {32, 0xF0, 0x9F, 0x98, 0x80}, tok.encode(" 😀"));
        assertEquals("é 😀", tok.decode(tok.encode("é 😀")));
    }

    @Test
    void decodeChecksIdsAndReplacesMalformedUtf8() {
        assertEquals("hello world", tok.decode(new int[] {260, 264}));
        assertEquals("\uFFFD", tok.decode(new int[] {0xC3}));
        assertEquals("", tok.decode(new int[0]));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {268}));
        assertThrows(IllegalArgumentException.class, () -> tok.decode(new int[] {-1}));
    }

    @Test
    void emptyAndIdStable() {
        assertArrayEquals(new int[0], tok.encode(""));
        assertEquals(tok.id(), handMade().id());
        assertEquals(true, tok.id().startsWith("bpe-v1-"));
    }
}
