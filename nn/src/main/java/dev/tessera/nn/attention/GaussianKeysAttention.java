package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Attention with a mixture of Gaussian keys (B29, first half), after Nguyen, Nguyen, Le, Nguyen,
 * Tran, Baraniuk, Ho and Osher, "Improving Transformers with Probabilistic Attention Keys" (ICML
 * 2022, Transformer-MGK): softmax attention is the posterior of a Gaussian mixture whose components
 * sit at the keys; MGK lets each key be a mixture of R Gaussians, so one head can attend to several
 * kinds of content at once (the paper's remedy for redundant heads):
 * <pre>
 *   k_jr     = k_j · A_hr                                  R keys per position, per head
 *   π_hr     = softmax_r(w_hr)                             mixing weights, learned per head
 *   w_ij     = Σ_r π_hr · exp(−‖q_i − k_jr‖² / 2σ²),       σ² = √D
 *   out_i    = Σ_j w_ij v_j / Σ_j w_ij                     over the allowed keys j
 * </pre>
 *
 * Choices, where the kernel seam or the paper leaves room: the paper draws the R keys from R key
 * projections of the input; a kernel only sees the projected k, so the r-th key is k·A_hr with a
 * learned D × D map per head and component ({@code key_maps} (H, R, D, D); A_h0 starts at the
 * identity, the others at the identity plus N(0, 1/(4D)) so the components can separate), i.e.
 * W_K^r = W_K·A_r. The mixing weights are shared by all positions j (π_jr = π_r, {@code
 * mixture_logits} (H, R), starting uniform). σ is fixed with σ² = √D, which makes one component
 * with keys of equal norm exactly softmax attention (−‖q − k‖²/2√D = q·k/√D − ‖q‖²/2√D −
 * ‖k‖²/2√D). The factor exp(−‖q_i‖²/2σ²) is common to a query's whole row and cancels in the
 * normalisation, so it is left out and the log-weights are taken by a log-sum-exp over r:
 * log w_ij = logsumexp_r(log π_hr + (2 q_i·k_jr − ‖k_jr‖²)/2σ²). Keys are mapped one position
 * at a time, so decoding with a KV cache gives the full sequence's rows.
 */
public final class GaussianKeysAttention extends Module implements AttentionKernel {

    /** R by default: two Gaussians per key, the paper's setting. */
    public static final int DEFAULT_COMPONENTS = 2;

    /** @param components R, the Gaussians per key (config: {@code --attention-option components=R}) */
    public record Options(int components) {
        public Options {
            if (components < 1 || components > 16) {
                throw new IllegalArgumentException("attention gaussian_keys: option components must be in [1, 16], got " + components);
            }
        }
    }

    private final int heads;
    private final int headDim;
    private final Variable keyMaps;
    private final Variable mixtureLogits;

    public GaussianKeysAttention(int heads, int headDim, Options options, Generator g) {
        if (heads <= 0 || headDim <= 0 || options == null || g == null) {
            throw new IllegalArgumentException("GaussianKeysAttention: need heads > 0, headDim > 0, options and a generator, got heads="
                    + heads + " headDim=" + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        int r = options.components();
        Tensor eye = Tensor.eye(headDim, DType.F32).reshape(1, 1, headDim, headDim).expand(heads, r, headDim, headDim);
        Tensor noise = Tensor.randn(g, DType.F32, heads, r, headDim, headDim).mul(0.5 / Math.sqrt(headDim));
        noise.narrow(1, 0, 1).fillInPlace(0); // component 0 is the key itself
        this.keyMaps = parameter("key_maps", eye.add(noise));
        this.mixtureLogits = parameter("mixture_logits", Tensor.zeros(DType.F32, heads, r));
    }

    /** R, the Gaussians per key. */
    public int components() {
        return mixtureLogits.size(1);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("GaussianKeysAttention", q, k, v, mask, heads, headDim);
        return attend(q, k, v, keyMaps.to(q.dtype()), mixtureLogits.to(q.dtype()), mask);
    }

    /**
     * The kernel as a function of key_maps (H, R, D, D) and mixture_logits (H, R) in the inputs'
     * dtype, so their gradients can be checked like any input's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable keyMaps, Variable mixtureLogits, AttentionMask mask) {
        KernelSupport.checkShapes("GaussianKeysAttention", q, k, v, mask);
        int h = q.size(1);
        int d = q.size(3);
        if (keyMaps.rank() != 4 || keyMaps.size(0) != h || keyMaps.size(2) != d || keyMaps.size(3) != d || mixtureLogits.rank() != 2
                || mixtureLogits.size(0) != h || mixtureLogits.size(1) != keyMaps.size(1)) {
            throw new IllegalArgumentException("GaussianKeysAttention: need key_maps (" + h + ", R, " + d + ", " + d
                    + ") and mixture_logits (" + h + ", R), got " + java.util.Arrays.toString(keyMaps.shape()) + " and "
                    + java.util.Arrays.toString(mixtureLogits.shape()));
        }
        int r = keyMaps.size(1);
        double twoSigma2 = 2 * Math.sqrt(d);
        Variable keys = k.unsqueeze(2).matmul(keyMaps.unsqueeze(0)); // (B, H, R, S, D): k_jr = k_j·A_hr
        Variable cross = q.unsqueeze(2).matmul(keys.mT()).mul(2 / twoSigma2); // (B, H, R, T, S): 2 q·k_jr / 2σ²
        Variable keyNorms = keys.square().sum(-1).unsqueeze(3).mul(1 / twoSigma2); // (B, H, R, 1, S): ‖k_jr‖² / 2σ²
        Variable logPi = mixtureLogits.logSoftmax(-1).reshape(1, h, r, 1, 1); // (1, H, R, 1, 1)
        Variable logW = cross.sub(keyNorms).add(logPi).logsumexp(false, 2); // (B, H, T, S)
        return KernelSupport.maskScores(logW, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }
}
