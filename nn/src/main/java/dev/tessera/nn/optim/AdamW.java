package dev.tessera.nn.optim;

import java.util.List;

/**
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization"), as
 * torch.optim.AdamW: the weight decay shrinks the parameter directly instead of entering the
 * gradient. At step t, with learning rate γ and weight decay λ:
 *
 * <pre>
 *   p ← p − γ·λ·p
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 *
 * Use {@link ParamGroups#decayAndNoDecay} to exempt biases, norms and embeddings from decay.
 */
public final class AdamW extends Adam {
    public AdamW(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super("AdamW", groups, lr, beta1, beta2, eps, weightDecay, true);
    }

    /** PyTorch's defaults: β = (0.9, 0.999), ε = 1e-8, λ = 0.01. */
    public AdamW(List<ParamGroup> groups, double lr) {
        this(groups, lr, 0.9, 0.999, 1e-8, 0.01);
    }
}
