/**
 * Blocks and stacks (A6, A14–A16): the decoder {@link dev.tessera.nn.block.TransformerBlock} in
 * serial or parallel {@link dev.tessera.nn.block.BlockStyle} (A6), token embeddings (factorized,
 * with LayerNorm, A15, A16) and the LM head (tied or untied, A15), cross-layer sharing (A15) and the
 * small {@link dev.tessera.nn.block.Decoder} that assembles them.
 */
package dev.tessera.nn.block;
