package dev.tessera.nn.attention;

import dev.tessera.autograd.Autocast;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Scaled dot-product attention (Vaswani et al. 2017), the default {@link AttentionKernel}:
 * <pre>
 *   s = q·kᵀ·α            (α = 1/√d unless given, A13)
 *   s = c·tanh(s/c)       (optional soft-capping, A12)
 *   s[not allowed] = −∞   (AttentionMask: causal and document mask, A9)
 *   out = dropout(softmax(s))·v   (attention dropout, A14)
 * </pre>
 * It is a module only so that train/eval reaches its dropout; it has no parameters.
 */
public final class SoftmaxAttention extends Module implements AttentionKernel {
    /**
     * Query rows per block when causal attention skips the blocks above the diagonal
     * ({@code -Dtessera.attention.causalBlock}; a value at least the sequence length turns it off).
     */
    static final int CAUSAL_BLOCK = Integer.getInteger("tessera.attention.causalBlock", 128);

    /**
     * Whether training's causal F32 attention takes the fused kernel ({@link FlashAttentionFunction})
     * rather than {@link CausalBlockAttention}'s batched GEMMs: {@code -Dtessera.attention.flash=true},
     * {@code false}, or {@code auto} (the default): fused when the blocked path would keep more than
     * {@link #AUTO_FLASH_BYTES} of probabilities for the backward, i.e. when memory decides. Where
     * both fit, the blocked path was faster in interleaved A/B runs of {@code tessera bench train} on a
     * 2-core AMD EPYC (AVX2): tiny, 1 thread, 1504 vs 1557 and 1647 vs 1718 tokens/s; small (T = 512),
     * 473 / 400 vs 623 / 495 (2026-12-01): the fused backward does five block products to the
     * blocked path's four. The fused kernel keeps O(T) memory; the blocked one B·H·T²·4 bytes a layer
     * (8 MiB for tiny, 48 MiB for small, 384 MiB for the gpt2 preset, whose twelve layers of them do
     * not fit beside the rest in 24 GB).
     */
    static final String FLASH = System.getProperty("tessera.attention.flash", "auto");

    /** Saved probabilities per layer above which {@code auto} takes the fused kernel: 128 MiB. */
    static final long AUTO_FLASH_BYTES = 128L << 20;

    private final double scale;
    private final double softCap;
    private final Dropout dropout;
    private int causalBlock = CAUSAL_BLOCK;
    private long autoFlashBytes = AUTO_FLASH_BYTES;

    /** The fused kernel always (TRUE), never (FALSE), or by the saved-probability size (null). */
    private Boolean flash = switch (FLASH) {
        case "true" -> Boolean.TRUE;
        case "false" -> Boolean.FALSE;
        case "auto" -> null;
        default -> throw new IllegalArgumentException("tessera.attention.flash: expected true, false or auto, got " + FLASH);
    };

    /**
     * @param scale the score scale α, or NaN for 1/√d of the given queries
     * @param softCap the soft-capping constant c, or 0 for none
     * @param dropout attention-probability dropout (p = 0 for none)
     */
    public SoftmaxAttention(double scale, double softCap, double dropout, Generator g) {
        if (!(Double.isNaN(scale) || scale > 0) || !(softCap >= 0)) {
            throw new IllegalArgumentException("SoftmaxAttention: need scale > 0 (or NaN) and softCap >= 0, got scale=" + scale
                    + " softCap=" + softCap);
        }
        this.scale = scale;
        this.softCap = softCap;
        this.dropout = child("dropout", new Dropout(dropout, g));
    }

    public SoftmaxAttention() {
        this(Double.NaN, 0, 0, null);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        int b = q.size(0);
        int t = q.size(2);
        int s = k.size(2);
        double alpha = Double.isNaN(scale) ? LogitScale.inverseSqrt(q.size(-1)) : scale;
        if (dev.tessera.nn.Probe.active()) {
            dev.tessera.nn.Probe.attentionProbabilities(probabilities(q.data(), k.data(), mask, alpha));
        }
        if (softCap == 0 && mask != null && mask.causal() && mask.queryOffset() == 0 && t == s && t > causalBlock
                && (dropout.p() == 0 || !dropout.isTraining())) { // training's case: causal, no cache, no dropout
            // a matmul-class op under autocast (G9), as torch's scaled_dot_product_attention
            return Autocast.apply(in -> fusedCausal(in[0], in[1], in[2], mask, alpha), q, k, v);
        }
        if (softCap == 0 && mask != null && mask.masksAnything()) { // the common case, fused: scale, mask and softmax at once
            Tensor allowed = mask.allowedMatrix(b, t, s); // (B or 1, 1, T, S), on the host: the fused function reads it there
            Variable p = dropout.forward(new MaskedSoftmaxFunction(allowed, alpha).call(q.matmul(k.mT())));
            return p.matmul(v); // (B, H, T, D)
        }
        return attendComposite(q, k, v, mask);
    }

    private Variable fusedCausal(Variable q, Variable k, Variable v, AttentionMask mask, double alpha) {
        long savedBytes = (long) q.size(0) * q.size(1) * q.size(2) * k.size(2) * Float.BYTES;
        boolean fused = flash != null ? flash : savedBytes > autoFlashBytes;
        if (fused && q.dtype() == DType.F32 && k.dtype() == DType.F32 && v.dtype() == DType.F32) {
            return new FlashAttentionFunction(alpha, mask).call(q, k, v);
        }
        return new CausalBlockAttention(alpha, mask, causalBlock).call(q, k, v);
    }

    /** softmax over keys of the capped, scaled, masked scores (B, H, T, S): the weights this kernel applies, for {@link dev.tessera.nn.Probe}. */
    private Tensor probabilities(Tensor q, Tensor k, AttentionMask mask, double alpha) {
        Tensor scores = q.matmul(k.mT()).mul(alpha); // (B, H, T, S)
        if (softCap > 0) {
            scores = scores.mul(1 / softCap).tanh().mul(softCap);
        }
        if (mask != null && mask.masksAnything()) {
            return scores.maskedSoftmax(mask.allowedMatrix(scores.device(), q.size(0), q.size(2), k.size(2)), 1);
        }
        return scores.softmax(-1);
    }

    /** For tests: a smaller block makes short sequences take the causal-block path. */
    SoftmaxAttention withCausalBlock(int rows) {
        causalBlock = rows;
        return this;
    }

    /** For tests and A/B benchmarks: whether training's causal F32 case takes the fused kernel. */
    public SoftmaxAttention withFlash(boolean on) {
        flash = on;
        return this;
    }

    /** For tests: {@code auto}'s choice with another threshold on the saved probabilities. */
    SoftmaxAttention withAutoFlash(long savedBytesThreshold) {
        flash = null;
        autoFlashBytes = savedBytesThreshold;
        return this;
    }

    /** The same attention from recorded primitives (also the soft-capped path): the fused path's reference. */
    Variable attendComposite(Variable q, Variable k, Variable v, AttentionMask mask) {
        int b = q.size(0);
        int t = q.size(2);
        int s = k.size(2);
        double alpha = Double.isNaN(scale) ? LogitScale.inverseSqrt(q.size(-1)) : scale;
        Variable scores = LogitScale.apply(q.matmul(k.mT()), alpha); // (B, H, T, S)
        scores = SoftCap.apply(scores, softCap);
        if (mask != null && mask.masksAnything()) {
            Tensor blocked = mask.allowedMatrix(q.data().device(), b, t, s).logicalNot(); // (B or 1, 1, T, S)
            scores = scores.maskedFill(blocked, Double.NEGATIVE_INFINITY);
        }
        Variable p = dropout.forward(scores.softmax(-1));
        return p.matmul(v); // (B, H, T, D)
    }
}
