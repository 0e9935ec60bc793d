package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;

/** The input check every token mixer of issue 17 makes at its API boundary, with one wording. */
final class MixerInput {
    private MixerInput() {}

    /** A one-line error naming {@code who} unless x is (B, T, width) with T ≥ 1. */
    static void check(String who, Variable x, int width) {
        if (x.rank() != 3 || x.size(2) != width || x.size(1) == 0) {
            throw new IllegalArgumentException(who + ": input must be (B, T, " + width + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
    }
}
