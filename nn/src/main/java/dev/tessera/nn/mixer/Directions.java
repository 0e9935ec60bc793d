package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;

/**
 * Checks shared by the mixers that mix over the sequence by position (FNet, gMLP, MLP-Mixer,
 * pooling): a bidirectional one runs in an encoder with a non-causal mask and no state; a causal
 * one with a causal mask (or none), and with document ids only when training (no state).
 */
final class Directions {
    private Directions() {}

    /**
     * The document runs of {@code mask} for x (B, T, {@code dim}), after one-line errors naming {@code who}
     * for a wrong shape, a mask of the other direction, a bidirectional mixer given a state, or
     * document ids given with a decoding state.
     */
    static Segments segments(String who, boolean causal, Variable x, int dim, AttentionMask mask, MixerState state) {
        checkInput(who, x, dim);
        if (!causal && mask != null && mask.causal()) {
            throw new IllegalArgumentException(who + ": mixes the whole sequence both ways (an encoder's mixer); got a causal mask");
        }
        if (!causal && state != null) {
            throw new IllegalArgumentException(who + ": mixes the whole sequence both ways; it cannot decode token by token from a state");
        }
        if (causal && mask != null && !mask.causal()) {
            throw new IllegalArgumentException(who + ": causal=true reads only the past; got a non-causal mask (causal=false mixes both ways)");
        }
        if (state != null && mask != null && mask.documentIds() != null) {
            throw new IllegalArgumentException(who + ": document ids are for training from the zero state, not for decoding from a state");
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

    /** One-line error naming {@code who} when {@code positions} exceed the mixer's fixed length n. */
    static void fits(String who, int positions, int n) {
        if (positions > n) {
            throw new IllegalArgumentException(who + ": " + positions + " positions exceed the mixer's length " + n
                    + " (set the option length)");
        }
    }
}
