package dev.tessera.models.tokenizer;

import java.util.Random;

/** A seeded synthetic corpus: English-like words, code, digits, whitespace runs, accents and emoji. */
final class BpeTestCorpus {
    private static final String[] WORDS = {"the", "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "was", "on",
        "token", "tokens", "merge", "merged", "merging", "pair", "pairs", "byte", "bytes", "world", "hello", "don't", "it's", "we're",
        "café", "naïve", "über", "日本語", "тест", "😀", "👩‍👩‍👧", "🇫🇷", "int", "return", "x", "i++", "{", "}", "();", "==", "->",
        "0", "1", "42", "2024", "3.14159", "    ", "\t", "\n", "\n\n", "\r\n", "  "};

    private BpeTestCorpus() {}

    static String text(long seed, int words) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            // a Zipf-like pick, so that some pairs are much more frequent than others
            int k = (int) Math.min(WORDS.length - 1, Math.floor(Math.pow(r.nextDouble(), 2.2) * WORDS.length));
            sb.append(WORDS[k]);
            sb.append(r.nextInt(5) == 0 ? "" : " ");
        }
        return sb.toString();
    }

    static BpeTokenizer trained(PreTokenizer pre, int vocabSize) {
        BpeTrainer t = new BpeTrainer(vocabSize, pre, java.util.List.of("<|endoftext|>", "<|begin_of_text|>"), "<|endoftext|>");
        for (int d = 0; d < 20; d++) {
            t.addText(text(d, 2000));
        }
        return t.train();
    }
}
