package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;

/**
 * SOFT, softmax-free attention (B21): Lu, Yao, Zhang, Zhu, Xu, Gao, Xiang, Xiang, Zhang, "SOFT:
 * Softmax-free Transformer with Linear Complexity", NeurIPS 2021. The softmax's exp of a dot product
 * is replaced by a Gaussian kernel, which is symmetric positive semi-definite, so the T×S matrix is
 * approximated by Nyström from m landmarks, with its pseudo-inverse by Newton–Raphson iteration;
 * rows are not normalised:
 *
 * <pre>
 *   κ(x, y) = exp(−‖x − y‖² / (2√D))
 *   k̃_i = mean of k over segment i                         (landmarks, i = 1..m)
 *   A = κ(K̃, K̃) (m, m),   A₀⁺ = Aᵀ / (‖A‖₁ ‖A‖_∞),   A_{j+1}⁺ = 2A_j⁺ − A_j⁺ A A_j⁺      (→ A⁺)
 *   out = κ(Q, K̃) (A⁺ (κ(K̃, K) V))                         O((T+S)·m·D + m³)
 * </pre>
 *
 * The paper ties the query and key projections (Q = K, so κ(q_i, q_i) = 1) and samples landmarks
 * from Q by a strided convolution or average pooling; here the kernel receives q and k from the
 * block and takes the landmarks as segment means (average pooling over ⌊i·S/m⌋ boundaries) of the
 * keys, which is the paper's pooling when a model ties the projections. When m ≥ S every key
 * could be a landmark and the exact κ(Q, K) V is returned. Landmarks average over the whole
 * sequence, so the kernel is bidirectional only and refuses causal and document masks.
 */
public final class SoftAttention implements AttentionKernel {

    /**
     * @param landmarks m (≥ 1)
     * @param newtonIterations the Newton–Raphson steps of the pseudo-inverse (1..100)
     */
    public record Options(int landmarks, int newtonIterations) {
        /** 49 landmarks (the paper's 7×7 pooled grid) and 20 Newton steps. */
        public static final Options DEFAULT = new Options(49, 20);

        public Options {
            if (landmarks < 1) {
                throw new IllegalArgumentException("SoftAttention: landmarks must be >= 1, got " + landmarks);
            }
            if (newtonIterations < 1 || newtonIterations > 100) {
                throw new IllegalArgumentException("SoftAttention: newtonIterations must be in [1, 100], got " + newtonIterations);
            }
        }
    }

    private final Options options;

    public SoftAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("SoftAttention: options are required");
        }
        this.options = options;
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("SoftAttention", q, k, v, mask);
        NystromAttention.refuseMasks("SoftAttention", mask);
        int s = k.size(2), m = options.landmarks();
        if (m >= s) {
            return gaussian(q, k).matmul(v); // (B, H, T, Dv)
        }
        Variable land = NystromAttention.segmentMeans(m, s, k).matmul(k); // (B, H, m, D)
        Variable pinv = newtonPseudoInverse(gaussian(land, land), options.newtonIterations()); // (B, H, m, m)
        return gaussian(q, land).matmul(pinv.matmul(gaussian(land, k).matmul(v))); // (B, H, T, Dv)
    }

    /** κ(x, y) = exp(−‖x_i − y_j‖²/(2√D)) for x (…, L, D), y (…, M, D): (…, L, M), via ‖x‖² + ‖y‖² − 2x·y. */
    static Variable gaussian(Variable x, Variable y) {
        Variable sq = x.square().sum(true, -1).add(y.square().sum(true, -1).mT()) // (…, L, M)
                .sub(x.matmul(y.mT()).mul(2));
        return sq.clamp(0, Double.NaN).mul(-1 / (2 * Math.sqrt(x.size(-1)))).exp();
    }

    /** A⁺ of a (…, m, m) with positive entries: Z₀ = aᵀ/(‖a‖₁‖a‖_∞), then Z ← 2Z − Z a Z. */
    public static Variable newtonPseudoInverse(Variable a, int iterations) {
        Variable z = NystromAttention.initialInverse(a); // (…, m, m)
        for (int i = 0; i < iterations; i++) {
            z = z.mul(2).sub(z.matmul(a).matmul(z));
        }
        return z;
    }
}
