package dev.tessera.models.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level byte-pair encoding: Sennrich, Haddow and Birch 2016, "Neural Machine Translation of
 * Rare Words with Subword Units", applied to UTF-8 bytes as in GPT-2 (Radford et al. 2019, "Language
 * Models are Unsupervised Multitask Learners"), so that any text is encodable without an unknown
 * token.
 *
 * <p><b>Encoding</b> of a text: (1) {@linkplain AddedTokens added tokens} such as
 * {@code <|endoftext|>} are cut out first and become their own ids; (2) each stretch between them is
 * {@linkplain PreTokenizer pre-tokenized} into words; (3) each word's UTF-8 bytes become their
 * {@linkplain ByteLevel byte-level} symbols, one per byte; (4) while some adjacent pair of symbols is
 * a merge, the pair whose merge has the lowest rank — leftmost among equals — is replaced by the
 * merged symbol. With {@code ignoreMerges} (Llama 3) a word that is itself in the vocabulary is
 * emitted whole, skipping step 4, as tiktoken does. Words' encodings are cached.
 *
 * <p><b>Decoding</b> concatenates the bytes of the tokens (an added token contributes its content)
 * and decodes them as UTF-8, malformed sequences becoming U+FFFD, as Hugging Face's ByteLevel
 * decoder does with {@code String::from_utf8_lossy}.
 *
 * <p>A byte whose symbol is not in the vocabulary (possible only in a hand-made or pruned
 * vocabulary) becomes the unknown token if one is configured and is otherwise dropped, as in
 * Hugging Face; a vocabulary holding all 256 byte symbols (every trained one) encodes any text
 * losslessly.
 */
public final class BpeTokenizer implements Tokenizer {
    /** A merge rule: the adjacent symbols {@code left} and {@code right} become {@code left + right}. */
    public record Merge(String left, String right) {
        public Merge {
            Objects.requireNonNull(left, "left");
            Objects.requireNonNull(right, "right");
        }
    }

    private static final int CACHE_LIMIT = 1 << 16;

    private final Map<String, Integer> vocab;
    private final List<Merge> merges;
    private final AddedTokens added;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final String unkToken;
    private final String endOfDocumentToken;

    private final String[] tokenById;
    private final byte[][] bytesById;
    private final int[] byteIds = new int[256];
    /** (left id << 32 | right id) → (rank << 32 | merged id). */
    private final HashMap<Long, Long> mergeTable;
    private final int unkId;
    private final int eodId;
    private final String id;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab              token string (byte-level) → id
     * @param merges             merge rules, highest priority first
     * @param addedTokens        tokens matched verbatim before pre-tokenization; each may also be in
     *                           {@code vocab}, with the same id
     * @param preTokenizer       how text is split into words
     * @param ignoreMerges       emit a word whole when it is in {@code vocab} (Llama 3)
     * @param unkToken           the token for bytes missing from {@code vocab}, or null (drop them)
     * @param endOfDocumentToken the token placed between documents, or null (then
     *                           {@link #endOfDocument()} throws)
     * @throws IllegalArgumentException naming the first inconsistency (an id used twice, a merge of
     *                                  unknown tokens or whose result is missing, ...)
     */
    public BpeTokenizer(Map<String, Integer> vocab, List<Merge> merges, List<AddedToken> addedTokens, PreTokenizer preTokenizer,
                        boolean ignoreMerges, String unkToken, String endOfDocumentToken) {
        this.vocab = Collections.unmodifiableMap(new LinkedHashMap<>(vocab));
        this.merges = List.copyOf(merges);
        this.added = new AddedTokens(addedTokens);
        this.preTokenizer = Objects.requireNonNull(preTokenizer, "preTokenizer");
        this.ignoreMerges = ignoreMerges;
        this.unkToken = unkToken;
        this.endOfDocumentToken = endOfDocumentToken;

        int max = -1;
        for (Map.Entry<String, Integer> e : this.vocab.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) {
                throw new IllegalArgumentException("BpeTokenizer: vocab[" + AddedTokens.quote(e.getKey()) + "] has negative id " + e.getValue());
            }
            max = Math.max(max, e.getValue());
        }
        for (AddedToken t : added.tokens()) {
            max = Math.max(max, t.id());
        }
        tokenById = new String[max + 1];
        for (Map.Entry<String, Integer> e : this.vocab.entrySet()) {
            int i = e.getValue();
            if (tokenById[i] != null) {
                throw new IllegalArgumentException("BpeTokenizer: vocab id " + i + " is used by both " + AddedTokens.quote(tokenById[i]) + " and " + AddedTokens.quote(e.getKey()));
            }
            tokenById[i] = e.getKey();
        }
        for (AddedToken t : added.tokens()) {
            Integer inVocab = this.vocab.get(t.content());
            if (inVocab != null && inVocab != t.id()) {
                throw new IllegalArgumentException("BpeTokenizer: added token " + AddedTokens.quote(t.content()) + " has id " + t.id() + " but vocab gives it " + inVocab);
            }
            if (tokenById[t.id()] != null && !tokenById[t.id()].equals(t.content())) {
                throw new IllegalArgumentException("BpeTokenizer: added token " + AddedTokens.quote(t.content()) + " has id " + t.id() + ", which vocab gives to " + AddedTokens.quote(tokenById[t.id()]));
            }
            tokenById[t.id()] = t.content();
        }
        bytesById = new byte[tokenById.length][];
        for (int i = 0; i < tokenById.length; i++) {
            if (tokenById[i] != null) {
                bytesById[i] = added.byContent(tokenById[i]) != null
                        ? tokenById[i].getBytes(StandardCharsets.UTF_8) : ByteLevel.decode(tokenById[i]);
            }
        }
        for (int b = 0; b < 256; b++) {
            Integer i = this.vocab.get(String.valueOf(ByteLevel.toChar(b)));
            byteIds[b] = i == null ? -1 : i;
        }
        mergeTable = new HashMap<>(this.merges.size() * 2);
        for (int r = 0; r < this.merges.size(); r++) {
            Merge m = this.merges.get(r);
            Integer a = this.vocab.get(m.left());
            Integer b = this.vocab.get(m.right());
            if (a == null || b == null) {
                throw new IllegalArgumentException("BpeTokenizer: merges[" + r + "] refers to unknown token " + AddedTokens.quote(a == null ? m.left() : m.right()));
            }
            Integer c = this.vocab.get(m.left() + m.right());
            if (c == null) {
                throw new IllegalArgumentException("BpeTokenizer: merges[" + r + "] makes " + AddedTokens.quote(m.left() + m.right()) + ", which is not in the vocab");
            }
            // a duplicated merge keeps its first (highest-priority) rank, as in Hugging Face
            mergeTable.putIfAbsent(pair(a, b), ((long) r << 32) | c);
        }
        if (unkToken != null) {
            Integer u = this.vocab.get(unkToken);
            if (u == null) {
                throw new IllegalArgumentException("BpeTokenizer: unk_token " + AddedTokens.quote(unkToken) + " is not in the vocab");
            }
            unkId = u;
        } else {
            unkId = -1;
        }
        if (endOfDocumentToken != null) {
            AddedToken t = added.byContent(endOfDocumentToken);
            Integer e = t != null ? Integer.valueOf(t.id()) : this.vocab.get(endOfDocumentToken);
            if (e == null) {
                throw new IllegalArgumentException("BpeTokenizer: end-of-document token " + AddedTokens.quote(endOfDocumentToken) + " is neither an added token nor in the vocab");
            }
            eodId = e;
        } else {
            eodId = -1;
        }
        id = "bpe-v1-" + fingerprint();
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    @Override
    public int[] encode(String text) {
        IntList out = new IntList(Math.max(16, text.length() / 3));
        added.split(text, new AddedTokens.Sink() {
            @Override
            public void text(String t) {
                for (String word : preTokenizer.split(t)) {
                    out.addAll(encodeWord(word));
                }
            }

            @Override
            public void token(AddedToken token) {
                out.add(token.id());
            }
        });
        return out.toArray();
    }

    /** The ids of one pre-tokenized word (shared cached array: do not modify). */
    private int[] encodeWord(String word) {
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = bpe(word);
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(word, ids);
        }
        return ids;
    }

    /** Applies the merges to one word; see the class comment. O(n log n) in the word's byte count. */
    int[] bpe(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        if (ignoreMerges) {
            Integer whole = vocab.get(ByteLevel.encode(bytes, 0, bytes.length));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] sym = new int[bytes.length];
        int n = 0;
        for (byte x : bytes) {
            int i = byteIds[x & 0xFF];
            if (i >= 0) {
                sym[n++] = i;
            } else if (unkId >= 0) {
                sym[n++] = unkId;
            }
        }
        if (n < 2) {
            return Arrays.copyOf(sym, n);
        }
        int[] next = new int[n];
        int[] prev = new int[n];
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n) {
                push(heap, sym[i], sym[i + 1], i);
            }
        }
        int live = n;
        while (!heap.isEmpty()) {
            long e = heap.pop();
            int i = (int) e;
            int rank = (int) (e >>> 32);
            int j = next[i];
            if (sym[i] < 0 || j < 0) {
                continue;
            }
            Long m = mergeTable.get(pair(sym[i], sym[j]));
            if (m == null || (int) (m >>> 32) != rank) {
                continue; // stale: the pair at i changed since this entry was pushed
            }
            sym[i] = (int) (long) m;
            sym[j] = -1;
            live--;
            next[i] = next[j];
            if (next[j] >= 0) {
                prev[next[j]] = i;
            }
            if (prev[i] >= 0) {
                push(heap, sym[prev[i]], sym[i], prev[i]);
            }
            if (next[i] >= 0) {
                push(heap, sym[i], sym[next[i]], i);
            }
        }
        int[] out = new int[live];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    private void push(LongHeap heap, int a, int b, int pos) {
        Long m = mergeTable.get(pair(a, b));
        if (m != null) {
            heap.push((m & 0xFFFFFFFF00000000L) | pos);
        }
    }

    @Override
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(tokens.length * 4);
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            if (t < 0 || t >= bytesById.length || bytesById[t] == null) {
                throw new IllegalArgumentException("BpeTokenizer.decode: token " + t + " at index " + i
                        + (t < 0 || t >= bytesById.length ? " is outside [0, " + vocabSize() + ")" : " is not assigned to any token"));
            }
            bytes.writeBytes(bytesById[t]);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return tokenById.length;
    }

    /** @throws IllegalStateException if no end-of-document token was configured */
    @Override
    public int endOfDocument() {
        if (eodId < 0) {
            throw new IllegalStateException("BpeTokenizer: no end-of-document token is configured (" + id + ")");
        }
        return eodId;
    }

    /** {@code bpe-v1-} and the first 128 bits of a SHA-256 of everything that affects encoding. */
    @Override
    public String id() {
        return id;
    }

    private String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int i = 0; i < tokenById.length; i++) {
                feed(md, tokenById[i] == null ? "\u0000<none>" : tokenById[i]);
            }
            feed(md, "merges " + merges.size());
            for (Merge m : merges) {
                feed(md, m.left());
                feed(md, m.right());
            }
            for (AddedToken t : added.tokens()) {
                feed(md, t.id() + " " + t.special() + " " + t.content());
            }
            feed(md, preTokenizer.fingerprint());
            feed(md, "ignore_merges=" + ignoreMerges + " unk=" + unkToken + " eod=" + endOfDocumentToken);
            return HexFormat.of().formatHex(md.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void feed(MessageDigest md, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        md.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8), (byte) b.length});
        md.update(b);
    }

    /** The token string (byte-level, or an added token's content) of {@code id}, or null if unassigned. */
    public String token(int id) {
        return id >= 0 && id < tokenById.length ? tokenById[id] : null;
    }

    public Map<String, Integer> vocab() {
        return vocab;
    }

    public List<Merge> merges() {
        return merges;
    }

    public List<AddedToken> addedTokens() {
        return added.tokens();
    }

    public PreTokenizer preTokenizer() {
        return preTokenizer;
    }

    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** The unknown token, or null. */
    public String unkToken() {
        return unkToken;
    }

    /** The end-of-document token's text, or null. */
    public String endOfDocumentToken() {
        return endOfDocumentToken;
    }

    @Override
    public String toString() {
        return "BpeTokenizer(vocab " + vocabSize() + ", " + merges.size() + " merges, " + preTokenizer + ")";
    }

    /** A growable int array. */
    private static final class IntList {
        int[] a;
        int n;

        IntList(int capacity) {
            a = new int[capacity];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        void addAll(int[] v) {
            if (n + v.length > a.length) {
                a = Arrays.copyOf(a, Math.max(a.length * 2, n + v.length));
            }
            System.arraycopy(v, 0, a, n, v.length);
            n += v.length;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }

    /** A binary min-heap of longs. */
    private static final class LongHeap {
        long[] h;
        int n;

        LongHeap(int capacity) {
            h = new long[Math.max(4, capacity)];
        }

        boolean isEmpty() {
            return n == 0;
        }

        void push(long v) {
            if (n == h.length) {
                h = Arrays.copyOf(h, n * 2);
            }
            int i = n++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (h[p] <= v) {
                    break;
                }
                h[i] = h[p];
                i = p;
            }
            h[i] = v;
        }

        long pop() {
            long top = h[0];
            long v = h[--n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) {
                    break;
                }
                if (c + 1 < n && h[c + 1] < h[c]) {
                    c++;
                }
                if (h[c] >= v) {
                    break;
                }
                h[i] = h[c];
                i = c;
            }
            h[i] = v;
            return top;
        }
    }
}
