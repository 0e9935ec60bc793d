package dev.tessera.models.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * One token per UTF-8 byte: vocabulary 256, id = the unsigned byte value.
 *
 * <p>All 256 values are already taken by bytes, so the end-of-document id reuses {@code 0xFF}, a
 * byte that never occurs in valid UTF-8 (RFC 3629 forbids 0xC0, 0xC1 and 0xF5–0xFF), and so never
 * appears in encoded text. {@link #decode} treats ids as bytes and decodes them as UTF-8, mapping
 * malformed sequences — the EOD byte included — to U+FFFD (the replacement character), as
 * {@link String#String(byte[], java.nio.charset.Charset)} does.
 */
public final class ByteTokenizer implements Tokenizer {
    /** The end-of-document id: 0xFF, never a byte of valid UTF-8. */
    public static final int EOD = 0xFF;

    public static final ByteTokenizer INSTANCE = new ByteTokenizer();

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return encodeUtf8(bytes, 0, bytes.length);
    }

    @Override
    public int[] encodeUtf8(byte[] utf8, int offset, int length) {
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            out[i] = utf8[offset + i] & 0xFF;
        }
        return out;
    }

    @Override
    public String decode(int[] tokens) {
        byte[] bytes = new byte[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            int t = tokens[i];
            if (t < 0 || t > 255) {
                throw new IllegalArgumentException("ByteTokenizer.decode: token " + t + " at index " + i + " is outside [0, 256)");
            }
            bytes[i] = (byte) t;
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int endOfDocument() {
        return EOD;
    }

    @Override
    public String id() {
        return "byte-v1";
    }

    @Override
    public String toString() {
        return "ByteTokenizer";
    }
}
