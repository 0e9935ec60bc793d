package dev.tessera.models.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Text ↔ token ids. Implementations are immutable and thread-safe.
 *
 * <p>{@link #id()} names the tokenizer <em>and its exact vocabulary</em>; the token cache keys on
 * it, so two tokenizers that could encode the same text differently must never share an id (a BPE
 * tokenizer should include a hash of its merges/vocabulary file).
 */
public interface Tokenizer {
    /** Token ids of {@code text}; each in {@code [0, vocabSize())}. No end-of-document token is added. */
    int[] encode(String text);

    /** Text of {@code tokens}; an id outside {@code [0, vocabSize())} is an IllegalArgumentException. */
    String decode(int[] tokens);

    /** Number of distinct ids, the end-of-document id included. */
    int vocabSize();

    /** The id placed between packed documents. */
    int endOfDocument();

    /** A stable identifier used in cache keys, e.g. {@code byte-v1} or {@code bpe-v1-<sha256 of vocab>}. */
    String id();

    /**
     * Token ids of valid UTF-8 bytes {@code utf8[offset, offset + length)}. The data pipeline calls
     * this with bytes it has already validated; byte-level tokenizers override it to skip building a
     * {@code String}.
     */
    default int[] encodeUtf8(byte[] utf8, int offset, int length) {
        return encode(new String(utf8, offset, length, StandardCharsets.UTF_8));
    }
}
