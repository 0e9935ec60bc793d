package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.Tensor;

/**
 * A causal token mixer that replaces a decoder block's attention (issue 17: state spaces, RNNs,
 * long convolutions): it reads the normalised block input x (B, T, C) itself, not queries, keys
 * and values, and decodes with a fixed-size recurrent {@link MixerState} in place of a KV cache.
 * Dimension legend: B batch, T time, C channels.
 */
public interface TokenMixer {

    /**
     * x (B, T, C) → (B, T, C), position t seeing positions ≤ t only. {@code mask} null or causal;
     * its document ids (packed training rows) restart the mixer at each document's first token.
     * {@code state} null: training, from the zero state, nothing kept; otherwise the T tokens
     * continue from {@code state}, which is then advanced past them (detached: inference), so
     * decoding costs O(1) per token.
     */
    Variable forward(Variable x, AttentionMask mask, MixerState state);

    /**
     * Where the recurrence carries over from t − 1, as (B, T, 1) of 1 (same document as t − 1, or
     * t = 0) and 0 (a document starts at t), in {@code like}'s dtype on its device; null when {@code mask} has no
     * document ids. One-line errors for a non-causal mask and for document ids with a carried state.
     */
    static Tensor carry(String who, AttentionMask mask, int batch, int time, MixerState state, Variable like) {
        if (mask == null) {
            return null;
        }
        if (!mask.causal()) {
            throw new IllegalArgumentException(who + ": a token mixer is causal; got a non-causal mask");
        }
        Tensor docs = mask.documentIds();
        if (docs == null) {
            return null;
        }
        if (state != null && state.length() > 0) {
            throw new IllegalArgumentException(who + ": document ids are for training from the zero state, not for decoding from a state");
        }
        if (docs.size(0) != batch || docs.size(1) != time) {
            throw new IllegalArgumentException(who + ": document ids " + java.util.Arrays.toString(docs.shape()) + " do not fit (" + batch
                    + ", " + time + ")");
        }
        long[] ids = docs.contiguous().toLongArray(); // read once (a device's ids come to the host in one copy)
        double[] keep = new double[batch * time];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < time; t++) {
                keep[b * time + t] = t == 0 || ids[b * time + t] == ids[b * time + t - 1] ? 1 : 0;
            }
        }
        return Tensor.of(keep, batch, time, 1).to(like.dtype()).to(like.data().device());
    }
}
