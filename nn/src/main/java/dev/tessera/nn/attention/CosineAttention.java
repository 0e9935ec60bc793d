package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Scaled cosine attention (B14), after Liu et al., "Swin Transformer V2: Scaling Up Capacity and
 * Resolution", CVPR 2022, §3.2: the dot product is replaced by the cosine of query and key, so no
 * single pair can dominate the logits however large the activations grow (the paper's remedy for
 * the attention maps of large models collapsing onto a few tokens); a learned per-head scale
 * restores the sharpness a cosine in [−1, 1] cannot reach alone.
 *
 * <pre>
 *   q̂ = q / max(‖q‖, ε),  k̂ = k / max(‖k‖, ε)          (ε = 1e-12, torch F.normalize)
 *   s_h = exp(min(logit_scale_h, ln 100))              (the 1/τ of the paper, τ ≥ 0.01)
 *   score_h(t, j) = s_h · q̂_t · k̂_j
 *   out_t = Σ_j softmax_j(score_h(t, ·) + mask) v_j
 * </pre>
 *
 * The paper writes Sim(q, k) = cos(q, k)/τ + B_ij with τ &gt; 0.01 learned per head and layer; its
 * code (and Hugging Face's {@code Swinv2SelfAttention}, timm's {@code WindowAttention}) holds
 * {@code logit_scale} = ln(1/τ), shape (H, 1, 1), initialised to ln 10 and clamped at ln 100, which
 * is what this class does, with the same parameter name and shape so checkpoints line up. The
 * relative-position term B_ij (Swin V2's log-spaced continuous position bias, a window-geometry
 * MLP) is not part of the attention equation here: positions come from the model's own scheme
 * (RoPE, learned, ...). The clamp passes no gradient above ln 100, as {@code torch.clamp} does.
 * Each query and key is normalised on its own, so decoding with a KV cache gives the full
 * sequence's scores. Everything is computed in the inputs' dtype (the F32 parameter is cast).
 */
public final class CosineAttention extends Module implements AttentionKernel {
    /** ε in max(‖x‖, ε), torch's F.normalize default. */
    public static final double EPS = 1e-12;
    /** The paper's initial scale 1/τ = 10. */
    public static final double INITIAL_SCALE = 10;
    /** The clamp: 1/τ ≤ 100, i.e. τ ≥ 0.01. */
    public static final double MAX_LOG_SCALE = Math.log(100);

    private final int heads;
    private final Variable logitScale;

    /** @param heads H; the parameter {@code logit_scale} (H, 1, 1) starts at ln 10 in every head */
    public CosineAttention(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("CosineAttention: heads must be positive, got " + heads);
        }
        this.heads = heads;
        this.logitScale = parameter("logit_scale", Tensor.full(Math.log(INITIAL_SCALE), DType.F32, heads, 1, 1));
    }

    /** The current scales s_h = exp(min(logit_scale_h, ln 100)), one per head. */
    public double[] scales() {
        double[] ls = logitScale.data().toDoubleArray();
        double[] s = new double[heads];
        for (int h = 0; h < heads; h++) {
            s[h] = Math.exp(Math.min(ls[h], MAX_LOG_SCALE));
        }
        return s;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("CosineAttention", q, k, v, mask, heads, 0);
        return attend(q, k, v, logitScale.to(q.dtype()), mask);
    }

    /**
     * The kernel as a function of logit_scale ((H, 1, 1) in the inputs' dtype), so its gradient
     * can be checked like any input's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable logitScale, AttentionMask mask) {
        KernelSupport.checkShapes("CosineAttention", q, k, v, mask);
        Variable scale = logitScale.clamp(Double.NaN, MAX_LOG_SCALE).exp(); // (H, 1, 1)
        Variable scores = normalize(q).matmul(normalize(k).mT()).mul(scale); // (B, H, T, S)
        return KernelSupport.maskScores(scores, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }

    /**
     * x / max(‖x‖, ε) along the last dim, written as x · rsqrt(max(‖x‖², ε²)): the same values, and
     * a zero vector gets a zero gradient instead of √0's infinite one.
     */
    static Variable normalize(Variable x) {
        return x.mul(x.square().sum(true, -1).clamp(EPS * EPS, Double.NaN).rsqrt());
    }
}
