package dev.tessera.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.data.Corpus;
import dev.tessera.models.data.Progress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    @TempDir
    Path dir;

    @Test
    void deterministicAndExactVocabSize() {
        BpeTokenizer a = BpeTestCorpus.trained(PreTokenizer.gpt2(), 700);
        BpeTokenizer b = BpeTestCorpus.trained(PreTokenizer.gpt2(), 700);
        assertEquals(a.merges(), b.merges());
        assertEquals(a.vocab(), b.vocab());
        assertEquals(a.id(), b.id());
        assertEquals(700, a.vocabSize());
        assertEquals(698, a.vocab().size(), "256 bytes + 442 merges; the 2 special tokens are added tokens");
        assertEquals("<|endoftext|>", a.token(698));
        assertEquals("<|begin_of_text|>", a.token(699));
        assertEquals(698, a.endOfDocument());
        for (int i = 0; i < 256; i++) {
            assertEquals(String.valueOf(ByteLevel.toChar(i)), a.token(i), "byte tokens keep id = byte value");
        }
        String s = BpeTestCorpus.text(99, 300);
        assertArrayEquals(a.encode(s), b.encode(s));
        assertTrue(a.encode(s).length < s.getBytes(StandardCharsets.UTF_8).length / 2, "merges compress the training distribution");
    }

    @Test
    void firstMergesAreTheMostFrequentPairs() {
        String corpus = "low low low low low lower lower newest newest newest newest newest newest widest widest widest "
                + "aaaa aaab ba ab ab hello hello world 😀😀 1234 1234";
        BpeTrainer t = new BpeTrainer(256 + 25, PreTokenizer.gpt2(), List.of(), null);
        t.addText(corpus);
        BpeTokenizer tok = t.train();
        List<String> expected = naiveMerges(PreTokenizer.gpt2().split(corpus), 25);
        List<String> got = new ArrayList<>();
        for (BpeTokenizer.Merge m : tok.merges()) {
            got.add(m.left() + " " + m.right());
        }
        assertEquals(expected, got.subList(0, expected.size()));
        assertEquals(25, expected.size());
        // "e s" and "s t" both occur 9 times (newest x6, widest x3); the tie goes to the smaller left token
        assertEquals("e s", got.get(0));
        assertEquals("es t", got.get(1));
    }

    /** Recounts every pair after each merge; ties go to the smaller (left bytes, right bytes). */
    private static List<String> naiveMerges(List<String> words, int count) {
        Map<String, Integer> freq = new HashMap<>();
        for (String w : words) {
            freq.merge(w, 1, Integer::sum);
        }
        List<List<byte[]>> syms = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : freq.entrySet()) {
            List<byte[]> s = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) {
                s.add(new byte[] {b});
            }
            syms.add(s);
            counts.add(e.getValue());
        }
        List<String> merges = new ArrayList<>();
        for (int step = 0; step < count; step++) {
            Map<String, long[]> pairCounts = new HashMap<>();
            Map<String, byte[][]> pairOf = new HashMap<>();
            for (int w = 0; w < syms.size(); w++) {
                List<byte[]> s = syms.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    String k = Arrays.toString(s.get(i)) + "|" + Arrays.toString(s.get(i + 1));
                    pairCounts.computeIfAbsent(k, x -> new long[1])[0] += counts.get(w);
                    pairOf.put(k, new byte[][] {s.get(i), s.get(i + 1)});
                }
            }
            byte[][] best = null;
            long bestCount = 0;
            for (Map.Entry<String, long[]> e : pairCounts.entrySet()) {
                byte[][] p = pairOf.get(e.getKey());
                long c = e.getValue()[0];
                if (best == null || c > bestCount || (c == bestCount && (Arrays.compareUnsigned(p[0], best[0]) < 0
                        || (Arrays.equals(p[0], best[0]) && Arrays.compareUnsigned(p[1], best[1]) < 0)))) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            merges.add(ByteLevel.encode(best[0], 0, best[0].length) + " " + ByteLevel.encode(best[1], 0, best[1].length));
            byte[] merged = new byte[best[0].length + best[1].length];
            System.arraycopy(best[0], 0, merged, 0, best[0].length);
            System.arraycopy(best[1], 0, merged, best[0].length, best[1].length);
            for (List<byte[]> s : syms) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (Arrays.equals(s.get(i), best[0]) && Arrays.equals(s.get(i + 1), best[1])) {
                        s.set(i, merged);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    @Test
    void trainsFromCorpusAndReloadsIdentically() throws Exception {
        Path text = dir.resolve("corpus.txt");
        Files.writeString(text, BpeTestCorpus.text(7, 5000), StandardCharsets.UTF_8);
        BpeTokenizer tok = new BpeTrainer(500, PreTokenizer.llama3(), List.of("<|end_of_text|>"), "<|end_of_text|>")
                .addCorpus(Corpus.open(text), Progress.NONE).train();
        Path json = dir.resolve("tokenizer.json");
        TokenizerJson.save(tok, json);
        BpeTokenizer back = TokenizerJson.load(json);
        assertEquals(tok.id(), back.id());
        assertEquals(tok.vocab(), back.vocab());
        assertEquals(tok.merges(), back.merges());
        assertEquals(tok.preTokenizer(), back.preTokenizer());
        assertEquals(tok.endOfDocument(), back.endOfDocument());
        String s = BpeTestCorpus.text(8, 1000) + "<|end_of_text|>x";
        assertArrayEquals(tok.encode(s), back.encode(s));
        assertEquals(TokenizerJson.toJson(tok), TokenizerJson.toJson(back));

        // dropping the last merge changes the id (the token cache must not reuse encodings)
        List<BpeTokenizer.Merge> fewer = tok.merges().subList(0, tok.merges().size() - 1);
        BpeTokenizer changed = new BpeTokenizer(tok.vocab(), fewer, tok.addedTokens(), tok.preTokenizer(), false, null, "<|end_of_text|>");
        assertNotEquals(tok.id(), changed.id());
        // so does the pre-tokenizer
        BpeTokenizer otherSplit = new BpeTokenizer(tok.vocab(), tok.merges(), tok.addedTokens(), PreTokenizer.gpt2(), false, null, "<|end_of_text|>");
        assertNotEquals(tok.id(), otherSplit.id());
    }

    @Test
    void stopsEarlyOnATinyCorpusAndValidates() {
        BpeTokenizer tok = new BpeTrainer(1000, PreTokenizer.gpt2(), List.of("<|endoftext|>"), "<|endoftext|>").addText("abab").train();
        assertEquals(List.of(new BpeTokenizer.Merge("a", "b"), new BpeTokenizer.Merge("ab", "ab")), tok.merges());
        assertEquals(259, tok.vocabSize());
        assertArrayEquals(new int[] {257, 258}, tok.encode("abab<|endoftext|>"));
        assertThrows(IllegalArgumentException.class, () -> BpeTrainer.gpt2Style(256));
        assertThrows(IllegalArgumentException.class, () -> new BpeTrainer(300, PreTokenizer.gpt2(), List.of("<a>"), "<b>"));
    }
}
