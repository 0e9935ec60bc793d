package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Tensor;

/**
 * KeyNorm attention (B1), after Su Jianlin, "Transformer升级之路：15、Key归一化助力长度外推"
 * (kexue.fm/archives/9859): keys are L2-normalised along the head dimension before the dot
 * product, which the post finds to help length extrapolation; optionally the queries too (then
 * the score is a scaled cosine, as in QK-norm / cosine attention).
 *
 * <pre>
 *   k̂ = k / √(Σ_d k_d² + ε)                       (and q̂ likewise when normalizeQueries)
 *   score(t, s) = τ · q̂_t · k̂_s   or   τ · q_t · k̂_s
 *   out_t = Σ_s softmax_s(score(t, ·) + mask) v_s
 * </pre>
 *
 * τ is either fixed or learned. Learned, it is log-parameterised: the parameter named
 * {@code temperature} holds log τ (a scalar of shape [1]), so τ = exp(temperature) stays positive.
 * Everything is computed in the inputs' dtype (the F32 parameter is cast to it).
 */
public final class KeyNormAttention extends Module implements AttentionKernel {
    /** ε inside the L2 norm, so a zero key does not divide by zero. */
    public static final double EPS = 1e-6;

    private final boolean normalizeQueries;
    private final double fixedTemperature;
    private final Variable logTemperature;

    /**
     * @param normalizeQueries whether q is L2-normalised as well as k
     * @param temperature τ (the initial value when learned); must be positive
     * @param learnTemperature whether τ is a trainable parameter ({@code temperature} = log τ)
     */
    public KeyNormAttention(boolean normalizeQueries, double temperature, boolean learnTemperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("KeyNormAttention: temperature must be positive and finite, got " + temperature);
        }
        this.normalizeQueries = normalizeQueries;
        this.fixedTemperature = temperature;
        this.logTemperature = learnTemperature ? parameter("temperature", Tensor.of(new float[] {(float) Math.log(temperature)}, 1))
                : null;
    }

    /** Keys normalised, queries not, fixed τ = 1 (the post's default form: score = q · k̂). */
    public KeyNormAttention() {
        this(false, 1.0, false);
    }

    /** The current τ. */
    public double temperature() {
        return logTemperature == null ? fixedTemperature : Math.exp(logTemperature.data().getDouble(0));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("KeyNormAttention", q, k, v, mask);
        Variable logTau = logTemperature == null ? Variable.constant(Tensor.scalar(Math.log(fixedTemperature), q.dtype()))
                : logTemperature.to(q.dtype());
        return attend(q, k, v, logTau, normalizeQueries, mask);
    }

    /**
     * The kernel as a function of log τ (a scalar or [1] variable in the inputs' dtype), so the
     * temperature's gradient can be checked like any input's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable logTemperature, boolean normalizeQueries,
            AttentionMask mask) {
        KernelSupport.checkShapes("KeyNormAttention", q, k, v, mask);
        Variable kn = l2Normalize(k); // (B, H, S, D)
        Variable qn = normalizeQueries ? l2Normalize(q) : q; // (B, H, T, D)
        Variable scores = qn.matmul(kn.mT()).mul(logTemperature.exp()); // (B, H, T, S)
        return KernelSupport.maskScores(scores, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }

    /** x / √(Σ x² + ε) along the last dim. */
    static Variable l2Normalize(Variable x) {
        return x.mul(x.square().sum(true, -1).add(EPS).rsqrt());
    }
}
