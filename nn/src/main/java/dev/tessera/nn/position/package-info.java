/**
 * Positional encodings (A7, C): rotary embeddings (A7), sinusoidal and learned absolute positions
 * (C1), and positions that are attention biases, which implement
 * {@link dev.tessera.nn.attention.AttentionKernel}: ALiBi (C4).
 */
package dev.tessera.nn.position;
