package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;

/**
 * A causal token mixer that replaces a decoder block's attention (issue 17: state spaces, RNNs,
 * long convolutions): it reads the normalised block input x (B, T, C) itself, not queries, keys
 * and values, and decodes with a fixed-size recurrent {@link MixerState} in place of a KV cache.
 * Dimension legend: B batch, T time, C channels.
 */
public interface TokenMixer {

    /**
     * x (B, T, C) → (B, T, C), position t seeing positions ≤ t only. {@code state} null: training,
     * from the zero state, nothing kept; otherwise the T tokens continue from {@code state}, which is
     * then advanced past them (detached: inference), so decoding costs O(1) per token.
     */
    Variable forward(Variable x, MixerState state);
}
