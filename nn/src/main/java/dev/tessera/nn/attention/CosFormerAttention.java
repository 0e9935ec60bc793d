package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * cosFormer attention (B21): Qin, Sun, Deng, Li, Wei, Lv, Yan, Kong, Zhong, "cosFormer: Rethinking
 * Softmax in Attention", ICLR 2022. Softmax is replaced by a ReLU kernel reweighted by a cosine of
 * the distance, which favours nearby tokens, and the cosine is split so attention stays linear:
 *
 * <pre>
 *   s(i, j) = ReLU(q_i)ᵀ ReLU(k_j) · cos(π (i − j) / (2M))
 *   out_i = Σ_j s(i, j) v_j / max(Σ_j s(i, j), ε)
 *   cos(a − b) = cos a cos b + sin a sin b  ⇒  s(i, j) = φ_i(q_i)ᵀ φ_j(k_j),
 *   φ_p(x) = [ReLU(x) cos(πp/2M), ReLU(x) sin(πp/2M)]      (2D features)
 *   bidirectional:  out = φ(Q) (φ(K)ᵀ V) / φ(Q) (φ(K)ᵀ 1)                       O(T·D·Dv)
 *   causal:         the sums over j ≤ i are prefix sums, an RNN with state (S, z)
 * </pre>
 *
 * i and j are absolute positions (query t at queryOffset + t, so a KV cache continues the same
 * angles); only i − j matters. M is fixed by {@link Options#maxPositions} (the model's context),
 * so every |i − j| &lt; M keeps the weight non-negative and the causal form does not depend on the
 * sequence's length; the paper sets M to the sequence length for its bidirectional models. ε =
 * 10⁻⁶ is the official code's {@code clamp_min} of the denominator, which is 0 when every key or
 * query feature is cut by the ReLU. Masks (causal, documents, a cache offset) use the prefix sums
 * shared with Performer and linear attention ({@link LinearAttentionSums}). {@link #newState} and
 * {@link #step} decode one token at a time, equal to the full causal form. No parameters.
 */
public final class CosFormerAttention implements AttentionKernel {
    /** The official code's floor on the denominator. */
    public static final double EPS = 1e-6;

    /** @param maxPositions M, the largest position + 1 the kernel will see (≥ 1) */
    public record Options(int maxPositions) {
        public Options {
            if (maxPositions < 1) {
                throw new IllegalArgumentException("CosFormerAttention: maxPositions must be >= 1, got " + maxPositions);
            }
        }
    }

    private final Options options;

    public CosFormerAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("CosFormerAttention: options are required");
        }
        this.options = options;
    }

    public Options options() {
        return options;
    }

    /** φ_p(x) for x (B, H, L, D) at positions first … first + L − 1: (B, H, L, 2D). */
    Variable features(Variable x, int first) {
        int l = x.size(2), m = options.maxPositions();
        if (first + l > m) {
            throw new IllegalArgumentException("CosFormerAttention: position " + (first + l - 1) + " is beyond maxPositions " + m);
        }
        double[] cos = new double[l];
        double[] sin = new double[l];
        for (int p = 0; p < l; p++) {
            double angle = Math.PI * (first + p) / (2.0 * m);
            cos[p] = Math.cos(angle);
            sin[p] = Math.sin(angle);
        }
        Variable r = x.relu();
        Variable c = OnDevice.constant(Tensor.of(cos, l, 1), x); // (L, 1)
        Variable s = OnDevice.constant(Tensor.of(sin, l, 1), x);
        return Variable.cat(-1, r.mul(c), r.mul(s)); // (B, H, L, 2D)
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("CosFormerAttention", q, k, v, mask);
        return LinearAttentionSums.attend("CosFormerAttention", features(q, mask.queryOffset()), features(k, 0), v, mask, EPS);
    }

    // ------------------------------------------------------------------ recurrent decoding

    /** Linear attention's running sums over the 2D features, S (B, H, 2D, Dv) and z (B, H, 1, 2D); steps is the next position. */
    public LinearAttention.State newState(int batch, int heads, int keyDim, int valueDim, DType dtype) {
        return new LinearAttention.State(Tensor.zeros(dtype, batch, heads, 2 * keyDim, valueDim),
                Tensor.zeros(dtype, batch, heads, 1, 2 * keyDim));
    }

    /**
     * Consumes the token at position i = steps, q, k (B, H, 1, D) and v (B, H, 1, Dv), and returns
     * its output (B, H, 1, Dv): S ← S + φ_i(k) vᵀ; z ← z + φ_i(k); out = φ_i(q)ᵀS / max(φ_i(q)ᵀz, ε).
     */
    public Tensor step(LinearAttention.State state, Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.size(2) != 1 || k.size(2) != 1 || v.size(2) != 1
                || 2 * k.size(3) != state.s.size(2) || v.size(3) != state.s.size(3)) {
            throw new IllegalArgumentException("CosFormerAttention.step: q, k (B, H, 1, D) and v (B, H, 1, Dv) must match the state "
                    + Arrays.toString(state.s.shape()) + ", got " + Arrays.toString(q.shape()) + ", " + Arrays.toString(k.shape()) + ", "
                    + Arrays.toString(v.shape()));
        }
        try (var noGrad = GradMode.noGrad()) {
            Tensor fk = features(Variable.constant(k), state.steps).data(); // (B, H, 1, 2D)
            state.s = state.s.add(fk.mT().matmul(v)); // (B, H, 2D, Dv)
            state.z = state.z.add(fk); // (B, H, 1, 2D)
            Tensor fq = features(Variable.constant(q), state.steps).data(); // (B, H, 1, 2D)
            state.steps++;
            return fq.matmul(state.s).div(fq.matmul(state.z.mT()).clamp(EPS, Double.NaN)); // (B, H, 1, Dv)
        }
    }
}
