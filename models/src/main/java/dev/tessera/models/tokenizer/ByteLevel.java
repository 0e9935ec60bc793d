package dev.tessera.models.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte ↔ character map ({@code bytes_to_unicode} in OpenAI's {@code encoder.py}),
 * which lets a byte-level BPE (Radford et al. 2019, building on Sennrich, Haddow and Birch 2016,
 * "Neural Machine Translation of Rare Words with Subword Units") store every token as a printable
 * string in {@code vocab.json} / {@code tokenizer.json}.
 *
 * <p>The 188 bytes that are printable Latin-1 characters — {@code '!'..'~'} (0x21–0x7E),
 * {@code '¡'..'¬'} (0xA1–0xAC) and {@code '®'..'ÿ'} (0xAE–0xFF) — map to the character with the same
 * code; the other 68 bytes (controls, space, 0x7F–0xA0, the soft hyphen 0xAD) map, in increasing
 * byte order, to U+0100, U+0101, … U+0143. So the space byte is {@code 'Ġ'} (U+0120) and the newline
 * byte is {@code 'Ċ'} (U+010A).
 */
public final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by char; -1 where the char is not the image of a byte. Covers U+0000..U+0143. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {}

    /** The character standing for byte {@code b} (0..255, or a signed Java byte). */
    public static char toChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte that {@code c} stands for, or -1 if {@code c} is not in the map's image. */
    public static int toByte(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Maps {@code bytes[offset, offset + length)} to their characters, one per byte. */
    public static String encode(byte[] bytes, int offset, int length) {
        char[] out = new char[length];
        for (int i = 0; i < length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[offset + i] & 0xFF];
        }
        return new String(out);
    }

    /** The byte-level string of {@code text}'s UTF-8 encoding. */
    public static String encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        return encode(b, 0, b.length);
    }

    /**
     * The bytes a token string stands for, as Hugging Face's ByteLevel decoder computes them: each
     * character mapped back to its byte, or — if any character is outside the map (an added token
     * such as {@code <|endoftext|>} is not, but one with non-Latin text would be) — the token's own
     * UTF-8 bytes.
     */
    public static byte[] decode(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            int b = toByte(token.charAt(i));
            if (b < 0) {
                return token.getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
