package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Linear attention with the elu+1 feature map (B3): Katharopoulos, Vyas, Pappas, Fleuret,
 * "Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention", ICML 2020.
 * The softmax similarity exp(qᵀk) is replaced by the kernel φ(q)ᵀφ(k) with a positive feature map,
 * so the sums over keys factor out of the queries and attention costs O(T·D·Dv) instead of O(T²·D):
 *
 * <pre>
 *   φ(x) = elu(x) + 1            (x + 1 for x &gt; 0, eˣ otherwise; elementwise, so m = D features)
 *   bidirectional:  out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j)
 *   causal:         out_i = φ(q_i)ᵀ S_i / φ(q_i)ᵀ z_i,   S_i = Σ_{j≤i} φ(k_j) v_jᵀ,  z_i = Σ_{j≤i} φ(k_j)
 * </pre>
 *
 * The causal form is an RNN: {@link #newState}/{@link #step} carry (S, z) and decode one token in
 * O(D·Dv), equal to the parallel prefix-sum form. Masks (causal, Llama 3 documents, a KV-cache
 * query offset) go through the prefix sums restarted per document run that Performer (B2) uses,
 * in {@link LinearAttentionSums}. As in the paper there is no 1/√D scale (it would cancel between
 * numerator and denominator) and no ε in the denominator (φ &gt; 0 keeps it positive whenever a
 * key is allowed). The kernel has no parameters.
 */
public final class LinearAttention implements AttentionKernel {

    /** φ(x) = elu(x) + 1 = relu(x) + exp(min(x, 0)), with derivative 1 for x &gt; 0 and eˣ otherwise (also 1 at 0). */
    public static Variable features(Variable x) {
        return x.relu().add(x.clamp(Double.NEGATIVE_INFINITY, 0).exp());
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("LinearAttention", q, k, v, mask);
        return LinearAttentionSums.attend("LinearAttention", features(q), features(k), v, mask);
    }

    /** The T×S form A = φ(Q)φ(K)ᵀ (masked to 0), out = A V / A 1; quadratic memory, for tests and comparison. */
    public Variable attendQuadratic(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("LinearAttention", q, k, v, mask);
        return LinearAttentionSums.attendQuadratic(features(q), features(k), v, mask);
    }

    // ------------------------------------------------------------------ recurrent decoding

    /**
     * The RNN state of causal decoding: S = Σ φ(k) vᵀ (B, H, D, Dv) and z = Σ φ(k) (B, H, 1, D);
     * also cosFormer's (B21), with its 2D position-weighted features.
     */
    public static final class State {
        Tensor s;
        Tensor z;
        int steps;

        State(Tensor s, Tensor z) {
            this.s = s;
            this.z = z;
        }

        /** Number of tokens consumed. */
        public int steps() {
            return steps;
        }
    }

    public State newState(int batch, int heads, int keyDim, int valueDim, DType dtype) {
        return new State(Tensor.zeros(dtype, batch, heads, keyDim, valueDim), Tensor.zeros(dtype, batch, heads, 1, keyDim));
    }

    /**
     * Consumes one token, q, k (B, H, 1, D) and v (B, H, 1, Dv), and returns its output (B, H, 1, Dv):
     * S ← S + φ(k) vᵀ; z ← z + φ(k); out = φ(q)ᵀS / φ(q)ᵀz.
     */
    public Tensor step(State state, Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.size(2) != 1 || k.size(2) != 1 || v.size(2) != 1
                || k.size(3) != state.s.size(2) || v.size(3) != state.s.size(3)) {
            throw new IllegalArgumentException("LinearAttention.step: q, k (B, H, 1, D) and v (B, H, 1, Dv) must match the state "
                    + Arrays.toString(state.s.shape()) + ", got " + Arrays.toString(q.shape()) + ", " + Arrays.toString(k.shape()) + ", "
                    + Arrays.toString(v.shape()));
        }
        try (var noGrad = GradMode.noGrad()) {
            Tensor fk = features(Variable.constant(k)).data(); // (B, H, 1, D)
            state.s = state.s.add(fk.mT().matmul(v)); // (B, H, D, Dv)
            state.z = state.z.add(fk); // (B, H, 1, D)
            state.steps++;
            Tensor fq = features(Variable.constant(q)).data(); // (B, H, 1, D)
            return fq.matmul(state.s).div(fq.matmul(state.z.mT())); // (B, H, 1, Dv)
        }
    }
}
