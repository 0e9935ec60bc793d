package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;

/**
 * Logit soft-capping (A12, Gemma 2; Bello et al. 2016): s ↦ c·tanh(s/c), smooth, odd, ≈ s for
 * |s| ≪ c and bounded by ±c. Used on attention scores before the mask and softmax (Gemma 2:
 * c = 50) and on the final LM logits (c = 30). A cap ≤ 0 disables it.
 */
public final class SoftCap {
    private SoftCap() {}

    public static Variable apply(Variable s, double cap) {
        if (!(cap > 0)) {
            return s;
        }
        return s.div(cap).tanh().mul(cap);
    }
}
