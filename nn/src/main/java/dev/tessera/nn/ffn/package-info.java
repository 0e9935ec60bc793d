/**
 * Feed-forward blocks and activations (A4, A5; token mixers of E go to {@code nn.mixer}): the
 * MLP and gated linear units of {@link dev.tessera.nn.ffn.FeedForward} (A5), with SwiGLU's fused
 * gate, CoLT5's routed light + heavy {@link dev.tessera.nn.ffn.ConditionalFeedForward} (B24), and the
 * pointwise {@link dev.tessera.nn.ffn.Activation}s (A4).
 */
package dev.tessera.nn.ffn;
