package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;

/**
 * Logit scaling (A13): logits·α. Attention uses α = 1/√d_head (Vaswani et al. 2017); some LMs
 * scale the output logits by 1/√d_model as well (e.g. when the head is tied to the embedding,
 * as in Mesh-TensorFlow's T5 and PaLM's "scale by 1/√d" on the shared embedding).
 */
public final class LogitScale {
    private LogitScale() {}

    /** α = 1/√d. */
    public static double inverseSqrt(int d) {
        if (d <= 0) {
            throw new IllegalArgumentException("LogitScale: dimension must be positive, got " + d);
        }
        return 1 / Math.sqrt(d);
    }

    /** logits·α; α = 1 returns the input unchanged. */
    public static Variable apply(Variable logits, double alpha) {
        return alpha == 1 ? logits : logits.mul(alpha);
    }
}
