package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;

/**
 * Checks shared by the mixers that mix over the whole sequence (FNet, and gMLP, MLP-Mixer,
 * pooling with {@code causal=false}): they run in an encoder with a non-causal mask, from no state.
 */
final class Bidirectional {
    private Bidirectional() {}

    /**
     * The document runs of {@code mask} for x (B, T, {@code dim}), after one-line errors naming {@code who}
     * for a wrong shape, a causal mask, or a decoding state.
     */
    static Segments segments(String who, Variable x, int dim, AttentionMask mask, MixerState state) {
        checkInput(who, x, dim);
        if (mask != null && mask.causal()) {
            throw new IllegalArgumentException(who + ": mixes the whole sequence both ways (an encoder's mixer); got a causal mask");
        }
        if (state != null) {
            throw new IllegalArgumentException(who + ": mixes the whole sequence both ways; it cannot decode token by token from a state");
        }
        return Segments.of(who, mask, x.size(0), x.size(1));
    }

    /** One-line error naming {@code who} unless x is (B, T, dim) with T ≥ 1. */
    static void checkInput(String who, Variable x, int dim) {
        if (x.rank() != 3 || x.size(2) != dim || x.size(1) == 0) {
            throw new IllegalArgumentException(who + ": input must be (B, T, " + dim + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
    }
}
