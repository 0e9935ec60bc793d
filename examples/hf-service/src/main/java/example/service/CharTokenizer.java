package example.service;

import dev.tessera.models.tokenizer.Tokenizer;

/**
 * The stand-in tokenizer for a checkpoint that ships none: ids 0–2 are reserved (pad, bos, eos, as
 * in Llama's configs) and the printable ASCII characters from the space on take the ids after them,
 * as many as the vocabulary holds. Other characters encode as '?'.
 */
final class CharTokenizer implements Tokenizer {
    private static final int RESERVED = 3;
    private final int vocabSize;

    CharTokenizer(int vocabSize) {
        if (vocabSize <= RESERVED + 1) {
            throw new IllegalArgumentException("CharTokenizer: vocabulary of " + vocabSize + " has no room for characters");
        }
        this.vocabSize = vocabSize;
    }

    @Override
    public int[] encode(String text) {
        return text.chars().map(c -> c >= ' ' && c - ' ' + RESERVED < vocabSize ? c - ' ' + RESERVED : '?' - ' ' + RESERVED).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        StringBuilder out = new StringBuilder(tokens.length);
        for (int t : tokens) {
            if (t < 0 || t >= vocabSize) {
                throw new IllegalArgumentException("CharTokenizer: id " + t + " outside [0, " + vocabSize + ")");
            }
            if (t >= RESERVED) {
                out.append((char) (t - RESERVED + ' '));
            }
        }
        return out.toString();
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int endOfDocument() {
        return 2;
    }

    @Override
    public String id() {
        return "example-char-" + vocabSize;
    }
}
