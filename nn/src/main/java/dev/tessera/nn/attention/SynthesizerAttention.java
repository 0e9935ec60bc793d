package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * The Synthesizer (B13): Tay, Bahri, Metzler, Juan, Zhao, Zheng, "Synthesizer: Rethinking
 * Self-Attention in Transformer Models", ICML 2021 (arXiv:2005.00743). The attention matrix is not
 * a query–key dot product but synthesized: per head, with query t at absolute position
 * p_t = queryOffset + t and keys at 0..S−1,
 *
 * <pre>
 *   Random:  Y = softmax(R[p_t, 0..S−1] + M) · V,       R ∈ ℝ^{ℓ × ℓ} learned per head (ℓ = maxPositions)
 *   Dense:   Y = softmax(B_t[0..S−1] + M) · V,          B_t = W₂ relu(W₁ x_t + b₁) + b₂ ∈ ℝ^ℓ
 * </pre>
 *
 * M is 0 where the causal/document mask allows key t' and −∞ elsewhere. Random ignores q and k
 * entirely (the paper's "R" synthesizer: the alignment is a trainable, input-independent matrix);
 * it is the kernel-owned parameter {@code random_logits} (H, ℓ, ℓ), initialised N(0, 0.02²) (the
 * paper only says "randomly initialized"; 0.02 is the usual Transformer init std, small enough that
 * training starts near uniform averaging), saved in checkpoints and trained with the rest.
 *
 * <p><b>Departure (named), Dense:</b> the paper's x_t is the block input (model width); a kernel
 * only sees per-head q, k, v, so here x_t = q_t, the head's query projection of the block input.
 * The two-layer network is per head over the head dim: W₁ (H, D, D) {@code dense_w1}, b₁ (H, D)
 * {@code dense_b1}, W₂ (H, D, ℓ) {@code dense_w2}, b₂ (H, ℓ) {@code dense_b2}; weights
 * U(±1/√fan_in) as torch.nn.Linear's default, biases zero. k is unused in both variants (its
 * projection gets no gradient).
 *
 * <p>Both variants index keys by absolute position, so sequences are limited to maxPositions and
 * causal decoding goes through the KV cache like softmax attention: the queries sit at
 * queryOffset = S − T, row p_t of R (Random) and the first S entries of B_t (Dense, which depends
 * only on x_t) are what the full forward uses, so cached decoding equals the full forward. With a
 * document mask the positions stay absolute (not restarted per document), as for AFT's bias.
 * Computed in the inputs' dtype (the F32 parameters are cast).
 */
public final class SynthesizerAttention extends Module implements AttentionKernel {
    /** The paper's two basic synthesizers (the factorized and mixed forms are not included). */
    public enum Variant { RANDOM, DENSE }

    /** Std of the N(0, σ²) initialisation of R. */
    public static final double RANDOM_INIT_STD = 0.02;

    private final Variant variant;
    private final int heads;
    private final int headDim;
    private final int maxPositions;
    private final Variable random;
    private final Variable w1;
    private final Variable b1;
    private final Variable w2;
    private final Variable b2;

    /**
     * @param variant RANDOM or DENSE
     * @param heads H
     * @param headDim D (Dense's hidden width is D; Random ignores it)
     * @param maxPositions ℓ, the longest sequence
     */
    public SynthesizerAttention(Variant variant, int heads, int headDim, int maxPositions, Generator g) {
        if (variant == null || heads <= 0 || headDim <= 0 || maxPositions <= 0 || g == null) {
            throw new IllegalArgumentException("SynthesizerAttention: need a variant, heads, headDim, maxPositions > 0 and a generator, got "
                    + variant + ", " + heads + ", " + headDim + ", " + maxPositions + ", " + g);
        }
        this.variant = variant;
        this.heads = heads;
        this.headDim = headDim;
        this.maxPositions = maxPositions;
        if (variant == Variant.RANDOM) {
            this.random = parameter("random_logits", Init.normal(g, RANDOM_INIT_STD, heads, maxPositions, maxPositions));
            this.w1 = this.b1 = this.w2 = this.b2 = null;
        } else {
            this.random = null;
            double bound = 1 / Math.sqrt(headDim);
            this.w1 = parameter("dense_w1", Init.uniform(g, -bound, bound, heads, headDim, headDim));
            this.b1 = parameter("dense_b1", Tensor.zeros(DType.F32, heads, headDim));
            this.w2 = parameter("dense_w2", Init.uniform(g, -bound, bound, heads, headDim, maxPositions));
            this.b2 = parameter("dense_b2", Tensor.zeros(DType.F32, heads, maxPositions));
        }
    }

    public Variant variant() {
        return variant;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("SynthesizerAttention", q, k, v, mask);
        int t = q.size(2);
        int s = k.size(2);
        if (q.size(1) != heads || (variant == Variant.DENSE && q.size(3) != headDim)) {
            throw new IllegalArgumentException("SynthesizerAttention: made for " + heads + " heads of size " + headDim + ", got q "
                    + Arrays.toString(q.shape()));
        }
        if (mask.queryOffset() + t > maxPositions || s > maxPositions) {
            throw new IllegalArgumentException("SynthesizerAttention: positions up to " + Math.max(mask.queryOffset() + t, s)
                    + " exceed maxPositions " + maxPositions);
        }
        DType dt = q.dtype();
        return variant == Variant.RANDOM ? attendRandom(v, random.to(dt), mask, t)
                : attendDense(q, v, w1.to(dt), b1.to(dt), w2.to(dt), b2.to(dt), mask);
    }

    /**
     * Random synthesizer as a function of R (H, P, P) with P ≥ queryOffset + T and P ≥ S, in v's
     * dtype, so its gradient can be checked like any input's; T is the number of queries.
     */
    public static Variable attendRandom(Variable v, Variable r, AttentionMask mask, int t) {
        int s = v.size(2);
        int off = mask.queryOffset();
        if (r.rank() != 3 || r.size(0) != v.size(1) || r.size(1) < off + t || r.size(2) < s) {
            throw new IllegalArgumentException("SynthesizerAttention: R " + Arrays.toString(r.shape()) + " does not cover "
                    + v.size(1) + " heads, queries at " + off + ".." + (off + t - 1) + " and " + s + " keys");
        }
        Variable logits = r.narrow(1, off, t).narrow(2, 0, s).unsqueeze(0); // (1, H, T, S)
        return mix(logits, v, mask);
    }

    /**
     * Dense synthesizer B_t = W₂ relu(W₁ q_t + b₁) + b₂ with W₁ (H, D, D), b₁ (H, D), W₂ (H, D, P),
     * b₂ (H, P), P ≥ S, all in q's dtype (x_t = q_t: the named departure of the class javadoc).
     */
    public static Variable attendDense(Variable q, Variable v, Variable w1, Variable b1, Variable w2, Variable b2, AttentionMask mask) {
        int h = q.size(1), d = q.size(3), s = v.size(2);
        if (w1.rank() != 3 || w1.size(0) != h || w1.size(1) != d || b1.rank() != 2 || b1.size(1) != w1.size(2)
                || w2.rank() != 3 || w2.size(0) != h || w2.size(1) != w1.size(2) || w2.size(2) < s || b2.rank() != 2
                || b2.size(1) != w2.size(2)) {
            throw new IllegalArgumentException("SynthesizerAttention: dense weights " + Arrays.toString(w1.shape()) + ", "
                    + Arrays.toString(b1.shape()) + ", " + Arrays.toString(w2.shape()) + ", " + Arrays.toString(b2.shape())
                    + " do not fit q " + Arrays.toString(q.shape()) + " and " + s + " keys");
        }
        Variable hidden = q.matmul(w1.unsqueeze(0)).add(b1.unsqueeze(1).unsqueeze(0)).relu(); // (B, H, T, F)
        Variable logits = hidden.matmul(w2.narrow(2, 0, s).unsqueeze(0)).add(b2.narrow(1, 0, s).unsqueeze(1).unsqueeze(0)); // (B, H, T, S)
        return mix(logits, v, mask);
    }

    /** softmax over the allowed keys, then the weighted sum of v: (B|1, H, T, S) · (B, H, S, Dv). */
    private static Variable mix(Variable logits, Variable v, AttentionMask mask) {
        Variable masked = logits;
        if (mask.masksAnything()) {
            int t = logits.size(2), s = logits.size(3);
            masked = logits.maskedFill(mask.allowedMatrix(logits.data().device(), v.size(0), t, s).logicalNot(), Double.NEGATIVE_INFINITY);
        }
        return masked.softmax(-1).matmul(v); // (B, H, T, Dv)
    }
}
