package dev.tessera.nn.mixer;

import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Consumer;

/** Shared checks of the issue-17 mixers' forms. */
final class MixerForms {
    private MixerForms() {}

    /**
     * Decodes x (B, T ≥ 16, C) through one recurrent state in uneven chunks (5, 1, 1, 7, 1, T − 15) and token by token
     * ({@link LruTest#decodeInChunks}, {@code check} on the state after each chunk); both must give {@code full} to {@code tol}.
     */
    static void decodesLikeFull(TokenMixer m, Tensor x, double[] full, double tol, Consumer<MixerState> check) {
        int t = x.size(1);
        int[] tokenByToken = new int[t];
        Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, t - 15}, tokenByToken}) {
            LruTest.close(full, LruTest.decodeInChunks(m, x, chunks, check), tol);
        }
    }
}
