package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Adaptive attention span (B25), after Sukhbaatar, Grave, Bojanowski and Joulin, "Adaptive
 * Attention Span in Transformers", ACL 2019: each head learns how far back it looks, so heads that
 * only need local context stop paying for (and attending to) distant keys. A soft, piecewise-linear
 * mask of the query–key distance multiplies the softmax weights, which are then renormalised:
 *
 * <pre>
 *   x_ij   = |i − j|                                  (i = S − T + t: the queries are the last T keys)
 *   m_z(x) = clamp((R + z − x) / R, 0, 1)              (R = 32, the ramp; z per head, learned)
 *   a_ij   = m_z(x_ij) exp(s_ij) / Σ_j' m_z(x_ij') exp(s_ij'),   s_ij = q_i·k_j / √D + mask
 *   out_i  = Σ_j a_ij v_j
 *   loss   += λ · Σ_h z_h / H                          (the paper's L1 term: {@link #spanPenalty()} times λ)
 * </pre>
 *
 * <p>Options ({@link Options}): the ramp R (default 32, the paper's) and the penalty coefficient λ
 * ({@code span_loss}, default 2·10⁻⁶, a setting used with the authors' code, whose flag defaults to
 * 0). The kernel is a {@link Regularizer}, so trainers add λ·penalty to the loss by themselves. The
 * paper writes the term as λ/M Σ_i z_i over all M heads of the model; here each layer adds λ times
 * the mean of its own heads' spans, which is the paper's term with λ scaled by the number of layers.
 *
 * Choices: z is held in positions (not as the paper's fraction of the maximum span) in the
 * parameter {@code span} (H, 1, 1), and clamped to [0, maxSpan] where it is used, which is what the
 * paper's code does to the parameter after each step; the clamp passes no gradient outside the
 * range, as {@code torch.clamp} does. z ≥ 0 keeps m(0) = 1, so every query's own key (always allowed
 * by causal and document masks) keeps a positive weight and no row is empty. The query's position
 * is S − T + t, as the {@link AttentionKernel} contract and the document mask's ids place it (not
 * {@code queryOffset + t}, which is 0-based for an uncausal mask over a longer key range). z starts at maxSpan / 2
 * ({@link #INITIAL_FRACTION}) rather than the paper's 0, so that short test runs see both the
 * penalty pulling z down and the data pulling it up (at the full span the mask is 1 everywhere and z
 * gets no gradient from the data until a distance reaches the ramp). The distance is |i − j| so a bidirectional use limits
 * both sides alike; under a causal mask it is i − j. Weights are computed as m ⊙ softmax(s) /
 * Σ m ⊙ softmax(s), the same ratio with the softmax's max subtraction keeping exp finite; the
 * denominator is floored at 1e-30 (instead of the paper code's + 1e-8) so that a row whose in-span
 * weights all underflow gives 0 instead of NaN, without moving ordinary rows. The mask depends only
 * on positions, so decoding with a KV cache gives the full sequence's rows.
 */
public final class AdaptiveSpanAttention extends Module implements AttentionKernel, Regularizer {
    /** R: the width of the mask's linear ramp, in positions (the paper uses 32). */
    public static final double RAMP = 32;
    /** λ by default. */
    public static final double SPAN_LOSS = 2e-6;

    /**
     * @param ramp R, the width of the mask's linear ramp in positions (&gt; 0)
     * @param spanLoss λ, the coefficient of the L1 span penalty in the loss (≥ 0; 0 turns it off)
     */
    public record Options(double ramp, double spanLoss) {
        public Options {
            if (!(ramp > 0) || !Double.isFinite(ramp)) {
                throw new IllegalArgumentException("attention adaptive_span: option ramp must be > 0, got " + ramp);
            }
            if (!(spanLoss >= 0) || !Double.isFinite(spanLoss)) {
                throw new IllegalArgumentException("attention adaptive_span: option span_loss must be >= 0, got " + spanLoss);
            }
        }
    }
    /** z starts at this fraction of maxSpan. */
    public static final double INITIAL_FRACTION = 0.5;
    /** Floor of the renormalising denominator. */
    static final double TINY = 1e-30;

    private final int heads;
    private final int maxSpan;
    private final Options options;
    private final Variable span;

    /** With the paper's ramp and the default λ. */
    public AdaptiveSpanAttention(int heads, int maxSpan) {
        this(heads, maxSpan, new Options(RAMP, SPAN_LOSS));
    }

    /** @param heads H; @param maxSpan the largest span z may take (the model's max positions) */
    public AdaptiveSpanAttention(int heads, int maxSpan, Options options) {
        if (heads <= 0 || maxSpan <= 0) {
            throw new IllegalArgumentException("AdaptiveSpanAttention: heads and maxSpan must be positive, got " + heads + ", " + maxSpan);
        }
        this.heads = heads;
        this.maxSpan = maxSpan;
        this.options = options;
        this.span = parameter("span", Tensor.full(INITIAL_FRACTION * maxSpan, DType.F32, heads, 1, 1));
    }

    /** The spans in use, z_h clamped to [0, maxSpan], one per head. */
    public double[] spans() {
        double[] z = span.data().toDoubleArray();
        for (int h = 0; h < heads; h++) {
            z[h] = Math.min(Math.max(z[h], 0), maxSpan);
        }
        return z;
    }

    /**
     * The paper's L1 span penalty Σ_h z_h / H (z clamped as in the forward), a scalar the caller
     * adds to the loss times its own coefficient; its gradient reaches {@code span}.
     */
    public Variable spanPenalty() {
        return span.clamp(0, maxSpan).sum().div(heads);
    }

    /** λ · {@link #spanPenalty()}, the term this kernel adds to the training loss. */
    @Override
    public Variable regularization() {
        return spanPenalty().mul(options.spanLoss());
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("AdaptiveSpanAttention", q, k, v, mask, heads, 0);
        return attend(q, k, v, span.to(q.dtype()), maxSpan, options.ramp(), mask);
    }

    /**
     * The kernel as a function of the spans z ((H, 1, 1) in the inputs' dtype, clamped to
     * [0, maxSpan]) and the ramp R, so z's gradient can be checked like any input's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable z, int maxSpan, double ramp, AttentionMask mask) {
        KernelSupport.checkShapes("AdaptiveSpanAttention", q, k, v, mask);
        if (!(ramp > 0)) {
            throw new IllegalArgumentException("AdaptiveSpanAttention: ramp must be positive, got " + ramp);
        }
        int t = q.size(2);
        int s = k.size(2);
        double[] dist = new double[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                dist[i * s + j] = Math.abs(s - t + i - j);
            }
        }
        Variable x = OnDevice.constant(Tensor.of(dist, t, s), q); // (T, S)
        Variable m = z.clamp(0, maxSpan).sub(x).div(ramp).add(1).clamp(0, 1); // (H, T, S)
        Variable scores = q.matmul(k.mT()).div(Math.sqrt(q.size(3))); // (B, H, T, S)
        Variable w = KernelSupport.maskScores(scores, mask).softmax(-1).mul(m); // (B, H, T, S)
        return w.div(w.sum(true, -1).clamp(TINY, Double.NaN)).matmul(v); // (B, H, T, Dv)
    }
}
