package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;

/**
 * The seam between multi-head attention (projections, heads, KV cache) and how scores become
 * outputs: softmax attention, KeyNorm, Performer FAVOR+, memory-efficient tiling, ALiBi, ... each
 * implement this. Shapes: q (B, H, T, D); k, v (B, H, S, D) with S ≥ T (S − T cached positions
 * precede the queries); result (B, H, T, D). Grouped-query heads are already expanded by the caller.
 */
public interface AttentionKernel {
    Variable attend(Variable q, Variable k, Variable v, AttentionMask mask);
}
