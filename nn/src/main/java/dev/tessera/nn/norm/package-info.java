/**
 * Normalization, residual and initialization (A1, A2, D): LayerNorm and RMSNorm (A2) and the
 * {@link dev.tessera.nn.norm.NormKind} that picks one, where a block normalises
 * ({@link dev.tessera.nn.norm.NormPlacement}, A1), DeepNorm (D1) and GPT-2's scaled residual
 * initialisation (D7).
 */
package dev.tessera.nn.norm;
