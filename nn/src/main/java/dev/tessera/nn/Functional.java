package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.nn.norm.RMSNorm;
import dev.tessera.tensor.Tensor;

/**
 * The nn ops as plain functions, as {@code torch.nn.functional} is: no module to build or load when
 * the weights are at hand. Each delegates to the one place the op is defined (the module's static
 * form, the loss, the attention kernel), so a function and its module cannot drift apart.
 */
public final class Functional {
    private Functional() {}

    /** Layer norm over the last dimension; weight and bias (C) may be null. */
    public static Variable layerNorm(Variable x, Variable weight, Variable bias, double eps) {
        return LayerNorm.apply(x, weight, bias, eps);
    }

    /** RMS norm over the last dimension; weight (C) may be null. */
    public static Variable rmsNorm(Variable x, Variable weight, double eps) {
        return RMSNorm.apply(x, weight, eps);
    }

    /** Softmax cross-entropy of logits (…, C) against class ids (…), ignore index −100, with the given reduction. */
    public static Variable crossEntropy(Variable logits, Tensor targets, Losses.Reduction reduction) {
        return Losses.crossEntropy(logits, targets, Losses.IGNORE_INDEX, 0, reduction);
    }

    /** Squared error with the given reduction. */
    public static Variable mse(Variable a, Variable b, Losses.Reduction reduction) {
        return Losses.mse(a, b, reduction);
    }

    /** softmax(q kᵀ / √D + mask) v for q (B, H, T, D), k, v (B, H, S, D) with S ≥ T. */
    public static Variable scaledDotProductAttention(Variable q, Variable k, Variable v, AttentionMask mask) {
        return new SoftmaxAttention(Double.NaN, 0, 0, null).attend(q, k, v, mask);
    }

    public static Variable gelu(Variable x) {
        return x.gelu();
    }

    public static Variable silu(Variable x) {
        return x.silu();
    }

    public static Variable relu(Variable x) {
        return x.relu();
    }

    public static Variable softmax(Variable x, int dim) {
        return x.softmax(dim);
    }

    public static Variable logSoftmax(Variable x, int dim) {
        return x.logSoftmax(dim);
    }
}
