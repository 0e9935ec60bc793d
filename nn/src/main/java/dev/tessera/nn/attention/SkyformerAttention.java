package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Skyformer attention (B17): Chen, Zeng, Ji, Yang, "Skyformer: Remodel Self-Attention with Gaussian
 * Kernel and Nyström Method", NeurIPS 2021. Softmax is replaced by a Gaussian kernel, which makes
 * the matrix of the concatenated rows X = [Q; K] symmetric positive semi-definite, so the Nyström
 * method applies to it with landmarks sampled from X:
 *
 * <pre>
 *   κ(x, y) = exp(−‖x − y‖² / (2√D))
 *   Z = m rows of [Q; K] drawn uniformly (half from the queries, half from the keys)
 *   A = κ(Z, Z) + λI,   D_A = diag(A 1),   Â = D_A^(−1/2) A D_A^(−1/2)
 *   out = κ(Q, Z) · D_A^(−1/2) Â⁺ D_A^(−1/2) · κ(Z, K) V          O((T+S)·m·D + m³)
 * </pre>
 *
 * As in the authors' code: the ridge λ = 0.1 keeps A invertible, the symmetric diagonal scaling
 * makes Â's rows sum to about 1 so that Nyströmformer's pseudo-inverse iteration
 * ({@link NystromAttention#pseudoInverse}, 6 steps) converges, and landmarks are redrawn at every
 * call from the generator, one draw shared by the batch and the heads (with replacement, ⌈m/2⌉
 * query rows then ⌊m/2⌋ key rows; the code draws per batch row). Rows are not normalised (the
 * paper's kernelized attention is κ(Q, K) V). Landmarks mix the whole sequence, so the kernel is
 * bidirectional only and refuses causal and document masks.
 */
public final class SkyformerAttention implements AttentionKernel {

    /**
     * @param landmarks m (≥ 2)
     * @param pinvIterations Nyströmformer's pseudo-inverse iterations (1..100; the code uses 6)
     * @param ridge λ added to the landmark matrix's diagonal (≥ 0; the code uses 0.1)
     */
    public record Options(int landmarks, int pinvIterations, double ridge) {
        public static final Options DEFAULT = new Options(64, 6, 0.1);

        public Options {
            if (landmarks < 2) {
                throw new IllegalArgumentException("SkyformerAttention: landmarks must be >= 2, got " + landmarks);
            }
            if (pinvIterations < 1 || pinvIterations > 100) {
                throw new IllegalArgumentException("SkyformerAttention: pinvIterations must be in [1, 100], got " + pinvIterations);
            }
            if (!(ridge >= 0) || Double.isInfinite(ridge)) {
                throw new IllegalArgumentException("SkyformerAttention: ridge must be finite and >= 0, got " + ridge);
            }
        }
    }

    private final Options options;
    private final Generator generator;

    public SkyformerAttention(Options options, Generator g) {
        if (options == null || g == null) {
            throw new IllegalArgumentException("SkyformerAttention: options and a generator are required");
        }
        this.options = options;
        this.generator = g;
    }

    public Options options() {
        return options;
    }

    /** Rows of [Q; K] for the landmarks: ⌈m/2⌉ in [0, T), then ⌊m/2⌋ in [T, T + S), uniform with replacement. */
    int[] drawLandmarks(int t, int s) {
        int m = options.landmarks();
        int[] rows = new int[m];
        for (int i = 0; i < m; i++) {
            rows[i] = i < (m + 1) / 2 ? (int) generator.nextLong(t) : t + (int) generator.nextLong(s);
        }
        return rows;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("SkyformerAttention", q, k, v, mask);
        NystromAttention.refuseMasks("SkyformerAttention", mask);
        return attend(q, k, v, drawLandmarks(q.size(2), k.size(2)));
    }

    /** The kernel with given landmark rows of [Q; K] (indices into the T + S rows). */
    Variable attend(Variable q, Variable k, Variable v, int[] rows) {
        long[] idx = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            idx[i] = rows[i];
        }
        Variable z = Variable.cat(2, q, k).indexSelect(2, OnDevice.of(Tensor.of(idx, idx.length), q)); // (B, H, m, D)
        int m = rows.length;
        Variable a = SoftAttention.gaussian(z, z).add(OnDevice.constant(Tensor.eye(m, q.dtype()).mul(options.ridge()), q)); // (B, H, m, m)
        Variable scale = a.sum(true, -1).rsqrt(); // (B, H, m, 1): D_A^(−1/2)
        Variable normalised = a.mul(scale).mul(scale.mT()); // (B, H, m, m)
        Variable inverse = NystromAttention.pseudoInverse(normalised, options.pinvIterations()).mul(scale).mul(scale.mT());
        return SoftAttention.gaussian(q, z).matmul(inverse.matmul(SoftAttention.gaussian(z, k).matmul(v))); // (B, H, T, Dv)
    }
}
