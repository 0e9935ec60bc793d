package dev.tessera.models.tokenizer;

import dev.tessera.models.data.Corpus;
import dev.tessera.models.data.Progress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Learns a byte-level BPE vocabulary (Sennrich, Haddow and Birch 2016, "Neural Machine Translation
 * of Rare Words with Subword Units", Algorithm 1, on UTF-8 bytes as in GPT-2).
 *
 * <p>The text is split into {@linkplain PreTokenizer words} (special tokens cut out first) and the
 * words are counted. Every word starts as its bytes; the vocabulary starts as the 256 byte tokens
 * (id = byte value). Then, until the vocabulary has {@code vocabSize} entries (special tokens
 * included, appended last as GPT-2 does with {@code <|endoftext|>}), the most frequent adjacent pair
 * of symbols, counted over all words weighted by their counts, is merged everywhere into a new
 * symbol. Ties go to the lexicographically smallest pair: compare the left tokens' bytes (unsigned),
 * then the right tokens'. When a merge makes a string already in the vocabulary (e.g. {@code ab+c}
 * after {@code a+bc}) the existing id is reused, as Hugging Face's trainer does. If no pair is left
 * (a tiny corpus) training stops early and the vocabulary is smaller.
 *
 * <p>Cost: instead of recounting every pair after each merge, pair counts are updated incrementally
 * from the words that contain the merged pair (an index from each pair to the words it occurs in,
 * with stale entries tolerated), and the next pair comes from a priority queue with lazy deletion:
 * counts of existing pairs only fall, so an entry whose stored count is above the current count is
 * re-queued with the current count when it surfaces.
 */
public final class BpeTrainer {
    private final int vocabSize;
    private final PreTokenizer preTokenizer;
    private final List<String> specialTokens;
    private final String endOfDocumentToken;
    private final AddedTokens specials;
    private final HashMap<String, long[]> wordCounts = new HashMap<>();

    /**
     * @param vocabSize          the final vocabulary size, special tokens included (at least 256 + their number)
     * @param preTokenizer       how text is split into words
     * @param specialTokens      added tokens, e.g. {@code <|endoftext|>}, given the last ids
     * @param endOfDocumentToken the one of {@code specialTokens} that ends documents, or null
     */
    public BpeTrainer(int vocabSize, PreTokenizer preTokenizer, List<String> specialTokens, String endOfDocumentToken) {
        this.specialTokens = List.copyOf(specialTokens);
        if (vocabSize < 256 + this.specialTokens.size()) {
            throw new IllegalArgumentException("BpeTrainer: vocab size " + vocabSize + " is below 256 byte tokens + "
                    + this.specialTokens.size() + " special tokens");
        }
        if (endOfDocumentToken != null && !this.specialTokens.contains(endOfDocumentToken)) {
            throw new IllegalArgumentException("BpeTrainer: end-of-document token " + endOfDocumentToken + " is not one of the special tokens " + this.specialTokens);
        }
        this.vocabSize = vocabSize;
        this.preTokenizer = preTokenizer;
        this.endOfDocumentToken = endOfDocumentToken;
        List<AddedToken> list = new ArrayList<>();
        for (int i = 0; i < this.specialTokens.size(); i++) {
            list.add(new AddedToken(i, this.specialTokens.get(i), true));
        }
        this.specials = new AddedTokens(list);
    }

    /** GPT-2 pre-tokenization with {@code <|endoftext|>} as the only special token and end of document. */
    public static BpeTrainer gpt2Style(int vocabSize) {
        return new BpeTrainer(vocabSize, PreTokenizer.gpt2(), List.of("<|endoftext|>"), "<|endoftext|>");
    }

    /** Counts the words of one document. */
    public BpeTrainer addText(String text) {
        specials.forEachText(text, segment -> {
            for (String word : preTokenizer.split(segment)) {
                wordCounts.computeIfAbsent(word, k -> new long[1])[0]++;
            }
        });
        return this;
    }

    /** Counts the words of every document of {@code corpus}. */
    public BpeTrainer addCorpus(Corpus corpus, Progress progress) {
        corpus.forEachDocument((entry, utf8, length) -> addText(new String(utf8, 0, length, StandardCharsets.UTF_8)), progress);
        return this;
    }

    /** Number of distinct words counted so far. */
    public int distinctWords() {
        return wordCounts.size();
    }

    /** Pair statistics: the weighted count and the words (possibly repeated or stale) holding it. */
    private static final class PairStat {
        long count;
        int[] words = new int[4];
        int n;

        void addWord(int w) {
            if (n > 0 && words[n - 1] == w) {
                return;
            }
            if (n == words.length) {
                words = Arrays.copyOf(words, n * 2);
            }
            words[n++] = w;
        }
    }

    private record Candidate(long count, int left, int right) { }

    /** Runs the merges and returns the tokenizer. Deterministic: the same words and counts give the same result. */
    public BpeTokenizer train() {
        // words, in a fixed order so that nothing depends on hash iteration order
        List<String> keys = new ArrayList<>(wordCounts.keySet());
        keys.sort(null);
        int nw = keys.size();
        int[][] sym = new int[nw][];
        int[] len = new int[nw];
        long[] cnt = new long[nw];
        for (int w = 0; w < nw; w++) {
            byte[] b = keys.get(w).getBytes(StandardCharsets.UTF_8);
            sym[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) {
                sym[w][i] = b[i] & 0xFF;
            }
            len[w] = b.length;
            cnt[w] = wordCounts.get(keys.get(w))[0];
        }

        List<byte[]> tokenBytes = new ArrayList<>();
        List<String> tokenStrings = new ArrayList<>();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) {
            String s = String.valueOf(ByteLevel.toChar(b));
            tokenBytes.add(new byte[] {(byte) b});
            tokenStrings.add(s);
            vocab.put(s, b);
        }

        HashMap<Long, PairStat> pairs = new HashMap<>();
        for (int w = 0; w < nw; w++) {
            for (int i = 0; i + 1 < len[w]; i++) {
                PairStat st = pairs.computeIfAbsent(key(sym[w][i], sym[w][i + 1]), k -> new PairStat());
                st.count += cnt[w];
                st.addWord(w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(Math.max(16, pairs.size()), (x, y) -> {
            int c = Long.compare(y.count(), x.count());
            if (c != 0) {
                return c;
            }
            c = Arrays.compareUnsigned(tokenBytes.get(x.left()), tokenBytes.get(y.left()));
            return c != 0 ? c : Arrays.compareUnsigned(tokenBytes.get(x.right()), tokenBytes.get(y.right()));
        });
        for (Map.Entry<Long, PairStat> e : pairs.entrySet()) {
            queue.add(new Candidate(e.getValue().count, (int) (e.getKey() >>> 32), (int) (long) e.getKey()));
        }

        List<BpeTokenizer.Merge> merges = new ArrayList<>();
        int[] stamp = new int[nw];
        int target = vocabSize - specialTokens.size();
        int step = 0;
        List<Long> created = new ArrayList<>();
        while (vocab.size() < target && !queue.isEmpty()) {
            Candidate top = queue.poll();
            long k = key(top.left(), top.right());
            PairStat st = pairs.get(k);
            long current = st == null ? 0 : st.count;
            if (current != top.count()) {
                if (current > 0) {
                    queue.add(new Candidate(current, top.left(), top.right()));
                }
                continue;
            }
            int a = top.left();
            int b = top.right();
            String merged = tokenStrings.get(a) + tokenStrings.get(b);
            Integer existing = vocab.get(merged);
            int c;
            if (existing != null) {
                c = existing;
            } else {
                c = tokenStrings.size();
                byte[] ab = Arrays.copyOf(tokenBytes.get(a), tokenBytes.get(a).length + tokenBytes.get(b).length);
                System.arraycopy(tokenBytes.get(b), 0, ab, tokenBytes.get(a).length, tokenBytes.get(b).length);
                tokenBytes.add(ab);
                tokenStrings.add(merged);
                vocab.put(merged, c);
            }
            merges.add(new BpeTokenizer.Merge(tokenStrings.get(a), tokenStrings.get(b)));
            step++;
            created.clear();
            for (int wi = 0; wi < st.n; wi++) {
                int w = st.words[wi];
                if (stamp[w] == step) {
                    continue;
                }
                stamp[w] = step;
                mergeWord(sym[w], len[w], cnt[w], w, a, b, c, pairs, created, len);
            }
            pairs.remove(k);
            for (long ck : created) {
                PairStat cs = pairs.get(ck);
                if (cs != null && cs.count > 0) {
                    queue.add(new Candidate(cs.count, (int) (ck >>> 32), (int) ck));
                }
            }
        }

        List<AddedToken> added = new ArrayList<>();
        for (String s : specialTokens) {
            Integer id = vocab.get(s);
            added.add(new AddedToken(id != null ? id : vocab.size() + added.size(), s, true));
        }
        return new BpeTokenizer(vocab, merges, added, preTokenizer, false, null, endOfDocumentToken);
    }

    /**
     * Replaces every non-overlapping occurrence (left to right) of {@code a b} in word {@code w} by
     * {@code c}, in place, and updates the counts of the neighbouring pairs.
     */
    private static void mergeWord(int[] s, int n, long count, int w, int a, int b, int c,
                                  HashMap<Long, PairStat> pairs, List<Long> created, int[] len) {
        int r = 0;
        int o = 0;
        while (r < n) {
            if (r + 1 < n && s[r] == a && s[r + 1] == b) {
                if (o > 0) {
                    int x = s[o - 1];
                    add(pairs, key(x, a), -count, w, null);
                    add(pairs, key(x, c), count, w, created);
                }
                if (r + 2 < n) {
                    int y = s[r + 2];
                    add(pairs, key(b, y), -count, w, null);
                    add(pairs, key(c, y), count, w, created);
                }
                s[o++] = c;
                r += 2;
            } else {
                s[o++] = s[r++];
            }
        }
        len[w] = o;
    }

    private static void add(HashMap<Long, PairStat> pairs, long k, long delta, int w, List<Long> created) {
        PairStat st = pairs.get(k);
        if (st == null) {
            if (delta < 0) {
                return;
            }
            st = new PairStat();
            pairs.put(k, st);
        }
        st.count += delta;
        if (delta > 0) {
            st.addWord(w);
            created.add(k);
        }
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }
}
