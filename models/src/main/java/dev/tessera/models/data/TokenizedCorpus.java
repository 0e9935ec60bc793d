package dev.tessera.models.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

/**
 * A corpus as token ids: documents back to back, without end-of-document tokens (packing adds
 * them). Backed by a read-only memory-mapped cache file ({@link TokenCache}) or, for tests, by heap
 * memory. Tokens are little-endian uint16 when the vocabulary fits in 65,536 ids, int32 otherwise.
 */
public final class TokenizedCorpus {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment tokens;
    private final int tokenBytes;
    private final long[] documentStarts;
    private final int vocabSize;
    private final int endOfDocument;
    private final Path file;
    private final boolean fromCache;
    private final int skippedFiles;
    private final String rebuildReason;

    TokenizedCorpus(MemorySegment tokens, int tokenBytes, long[] documentStarts, int vocabSize, int endOfDocument,
                    Path file, boolean fromCache, int skippedFiles, String rebuildReason) {
        this.tokens = tokens;
        this.tokenBytes = tokenBytes;
        this.documentStarts = documentStarts;
        this.vocabSize = vocabSize;
        this.endOfDocument = endOfDocument;
        this.file = file;
        this.fromCache = fromCache;
        this.skippedFiles = skippedFiles;
        this.rebuildReason = rebuildReason;
    }

    /** Documents held in memory (tests, small corpora): each id must lie in [0, vocabSize). */
    public static TokenizedCorpus of(List<int[]> documents, int vocabSize, int endOfDocument) {
        if (endOfDocument < 0 || endOfDocument >= vocabSize) {
            throw new IllegalArgumentException("TokenizedCorpus: end-of-document id " + endOfDocument + " is outside [0, " + vocabSize + ")");
        }
        long[] starts = new long[documents.size() + 1];
        for (int d = 0; d < documents.size(); d++) {
            starts[d + 1] = starts[d] + documents.get(d).length;
        }
        int[] all = new int[Math.toIntExact(starts[documents.size()])];
        for (int d = 0; d < documents.size(); d++) {
            int[] doc = documents.get(d);
            for (int i = 0; i < doc.length; i++) {
                if (doc[i] < 0 || doc[i] >= vocabSize) {
                    throw new IllegalArgumentException("TokenizedCorpus: token " + doc[i] + " of document " + d + " is outside [0, " + vocabSize + ")");
                }
            }
            System.arraycopy(doc, 0, all, (int) starts[d], doc.length);
        }
        MemorySegment heap = MemorySegment.ofArray(all);
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            MemorySegment le = MemorySegment.ofArray(new int[all.length]);
            for (int i = 0; i < all.length; i++) {
                le.set(I32, 4L * i, all[i]);
            }
            heap = le;
        }
        return new TokenizedCorpus(heap, 4, starts, vocabSize, endOfDocument, null, false, 0, null);
    }

    public int numDocuments() {
        return documentStarts.length - 1;
    }

    public long numTokens() {
        return documentStarts[documentStarts.length - 1];
    }

    /** Index of document {@code d}'s first token among all tokens. */
    public long documentStart(int d) {
        return documentStarts[d];
    }

    public int documentLength(int d) {
        return (int) (documentStarts[d + 1] - documentStarts[d]);
    }

    /** Token {@code i} of the concatenation of all documents. */
    public int token(long i) {
        return tokenBytes == 2 ? tokens.get(U16, i << 1) & 0xFFFF : tokens.get(I32, i << 2);
    }

    /** Copies tokens {@code [from, from + length)} into {@code dst[offset…]}. */
    public void copy(long from, long[] dst, int offset, int length) {
        if (tokenBytes == 2) {
            for (int i = 0; i < length; i++) {
                dst[offset + i] = tokens.get(U16, (from + i) << 1) & 0xFFFF;
            }
        } else {
            for (int i = 0; i < length; i++) {
                dst[offset + i] = tokens.get(I32, (from + i) << 2);
            }
        }
    }

    /** Document {@code d}'s tokens as a new array. */
    public int[] document(int d) {
        int n = documentLength(d);
        long s = documentStarts[d];
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = token(s + i);
        }
        return out;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int endOfDocument() {
        return endOfDocument;
    }

    /** 2 (uint16) or 4 (int32). */
    public int tokenBytes() {
        return tokenBytes;
    }

    /** The cache file behind this corpus, or null when held in memory. */
    public Path file() {
        return file;
    }

    /** Whether the tokens were read from an existing cache file (no tokenizing happened). */
    public boolean fromCache() {
        return fromCache;
    }

    /** Files skipped as binary or not UTF-8 when the cache was built. */
    public int skippedFiles() {
        return skippedFiles;
    }

    /** Why an existing cache file was discarded and rebuilt (corrupt, truncated …), or null. */
    public String rebuildReason() {
        return rebuildReason;
    }
}
