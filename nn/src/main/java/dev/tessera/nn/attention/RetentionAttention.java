package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Retention (B11): Sun, Dong, Huang, Ma, Xia, Xue, Wang, Wei, "Retentive Network: A Successor to
 * Transformer for Large Language Models", 2023. Softmax is replaced by a fixed exponential decay per
 * head, so the same output has a parallel (training), a recurrent (O(1) decoding) and a chunkwise
 * (linear in T) form. With s = D^−½ (the paper's first score normalisation) and head h's decay
 * γ_h = 1 − 2^(−5−h):
 *
 * <pre>
 *   parallel:   out = (s·Q Kᵀ ⊙ D) V,      D_nm = γ^(n−m) if n ≥ m (and n, m in one document), else 0
 *   recurrent:  S_n = γ S_{n−1} + k_nᵀ v_n,  out_n = s·q_n S_n                    (S (D × Dv), S_0 = 0)
 *   chunkwise:  chunk i of C positions, state R_{i−1} from the chunks before it:
 *               out_[i] = (s·Q_[i] K_[i]ᵀ ⊙ D) V_[i] + (s·Q_[i] R_{i−1}) ⊙ ξ,   ξ_j = γ^(j+1)
 *               R_i = γ^C R_{i−1} + K_[i]ᵀ (V_[i] ⊙ ζ),                       ζ_j = γ^(C−1−j)
 * </pre>
 *
 * This is the kernel part of multi-scale retention, what flash-linear-attention's
 * {@code naive_retention} and {@code naive_recurrent/chunk_simple_gla} (g = log γ) compute, against
 * which the golden test holds all three forms. The rest of the paper's layer, MSR(X) =
 * (swish(X W_G) ⊙ GroupNorm_h(heads)) W_O, does not fit the kernel seam: the swish gate needs the block
 * input X, which a kernel never sees, and the paper's other two normalisations (D̃ rows divided by
 * √Σ D, retention scores by max(|Σ R|, 1)) are only harmless because that GroupNorm undoes any
 * per-row scale, so they are left out with it (the full layer is component I4's). The paper's
 * rotation Θ_n = e^(inθ) on Q and K is RoPE, which the Llama family applies before the kernel.
 *
 * <p>{@link #attend} runs the parallel form ({@link Options#chunk} 0, the default) or the
 * chunkwise one (C = chunk); {@link #newState}/{@link #step} is the recurrent form. Retention is
 * causal: a non-causal mask is an error. Document masks zero D across documents (the chunkwise form
 * restarts R at each document's first position, so documents must be contiguous runs there); with
 * a KV cache the queries are the last T of the S positions, so models decode through their cache
 * with the parallel form (O(S) per token) and equal the full forward; {@link #step} is the O(1) path.
 * The kernel has no parameters.
 */
public final class RetentionAttention implements AttentionKernel {

    /**
     * The kind's options ({@code --attention-option chunk=C}, config.json {@code tessera.attention_options}).
     *
     * @param chunk 0 for the parallel form in {@link #attend} (the default), else the chunk length C of the chunkwise form
     */
    public record Options(int chunk) {
        public Options {
            if (chunk < 0) {
                throw new IllegalArgumentException("attention retnet: option chunk must be >= 0 (0 = parallel form), got " + chunk);
            }
        }
    }

    private final int heads;
    private final Options options;

    public RetentionAttention(int heads) {
        this(heads, new Options(0));
    }

    public RetentionAttention(int heads, Options options) {
        if (heads <= 0) {
            throw new IllegalArgumentException("RetentionAttention: heads must be positive, got " + heads);
        }
        this.heads = heads;
        this.options = options;
    }

    public Options options() {
        return options;
    }

    /** γ_h = 1 − 2^(−5−h), the paper's multi-scale decays (0.96875, 0.984375, …). */
    public static double gamma(int h) {
        return 1 - Math.pow(2, -5 - h);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        return options.chunk() == 0 ? parallel(q, k, v, mask) : chunkwise(q, k, v, mask, options.chunk());
    }

    private void check(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("RetentionAttention", q, k, v, mask, heads, 0);
        if (!mask.causal()) {
            throw new IllegalArgumentException("RetentionAttention: retention is causal; got a non-causal mask");
        }
    }

    /** The parallel form (s·QKᵀ ⊙ D) V, D (B|1, H, T, S) the masked decay matrix. */
    public Variable parallel(Variable q, Variable k, Variable v, AttentionMask mask) {
        check(q, k, v, mask);
        int b = q.size(0), t = q.size(2), s = k.size(2);
        Tensor allowed = mask.allowedMatrix(b, t, s); // (B|1, 1, T, S)
        double[] ok = allowed.toDoubleArray();
        int rows = allowed.size(0);
        double[] d = new double[rows * heads * t * s];
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                double g = gamma(h);
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < s; j++) {
                        int n = mask.queryOffset() + i - j;
                        d[((r * heads + h) * t + i) * s + j] = ok[(r * t + i) * s + j] != 0 ? Math.pow(g, n) : 0;
                    }
                }
            }
        }
        Variable decay = OnDevice.constant(Tensor.of(d, rows, heads, t, s), q);
        return q.matmul(k.mT()).mul(1 / Math.sqrt(q.size(3))).mul(decay).matmul(v); // (B, H, T, Dv)
    }

    /** The chunkwise form with chunk length C; equal to {@link #parallel}. */
    public Variable chunkwise(Variable q, Variable k, Variable v, AttentionMask mask, int chunk) {
        check(q, k, v, mask);
        if (chunk <= 0) {
            throw new IllegalArgumentException("RetentionAttention: chunk must be positive, got " + chunk);
        }
        int t = q.size(2), s = k.size(2), d = q.size(3);
        Variable qs = DocumentRuns.padQueries(q.mul(1 / Math.sqrt(d)), s); // (B, H, S, D)
        return DocumentRuns.apply("RetentionAttention", mask, t, new Variable[] {qs, k, v},
                (run, from) -> chunkwiseRun(run[0], run[1], run[2], chunk));
    }

    /** One document run from R = 0: scaled q, k (…, L, D), v (…, L, Dv) → (…, L, Dv). */
    private Variable chunkwiseRun(Variable q, Variable k, Variable v, int chunk) {
        int len = k.size(2);
        DType dt = q.dtype();
        Variable state = Variable.constant(Tensor.zeros(dt, k.size(0), heads, k.size(3), v.size(3))); // R (…, D, Dv)
        List<Variable> outs = new ArrayList<>();
        for (int c0 = 0; c0 < len; c0 += chunk) {
            int c = Math.min(chunk, len - c0);
            Variable qc = q.narrow(2, c0, c), kc = k.narrow(2, c0, c), vc = v.narrow(2, c0, c);
            Variable inner = qc.matmul(kc.mT()).mul(constant(dt, c, c, (i, j) -> i >= j ? i - j : -1)).matmul(vc); // (…, C, Dv)
            Variable cross = qc.matmul(state).mul(constant(dt, c, 1, (i, j) -> i + 1)); // ξ_i = γ^(i+1)
            outs.add(inner.add(cross));
            Variable zeta = constant(dt, c, 1, (i, j) -> c - 1 - i); // ζ_j = γ^(C−1−j)
            state = state.mul(constant(dt, 1, 1, (i, j) -> c)).add(kc.mul(zeta).mT().matmul(vc)); // (…, D, Dv)
        }
        return outs.size() == 1 ? outs.get(0) : Variable.cat(2, outs.toArray(Variable[]::new));
    }

    private interface Exponent {
        int at(int i, int j);
    }

    /** (1, H, rows, cols) with γ_h^e(i, j), or 0 where e is negative. */
    private Variable constant(DType dt, int rows, int cols, Exponent e) {
        double[] x = new double[heads * rows * cols];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    int n = e.at(i, j);
                    x[(h * rows + i) * cols + j] = n < 0 ? 0 : Math.pow(gamma(h), n);
                }
            }
        }
        return Variable.constant(Tensor.of(x, 1, heads, rows, cols).to(dt));
    }

    // ------------------------------------------------------------------ recurrent decoding

    /** The recurrent state S (B, H, D, Dv) of causal decoding, decayed by γ_h and added to at each {@link #step}. */
    public static final class State {
        private Tensor s;

        private State(Tensor s) {
            this.s = s;
        }
    }

    public State newState(int batch, int keyDim, int valueDim, DType dtype) {
        return new State(Tensor.zeros(dtype, batch, heads, keyDim, valueDim));
    }

    /**
     * Consumes one token, q, k (B, H, 1, D) and v (B, H, 1, Dv), and returns its output (B, H, 1, Dv):
     * S ← γ S + kᵀ v; out = s·q S.
     */
    public Tensor step(State state, Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.size(2) != 1 || k.size(2) != 1 || v.size(2) != 1
                || k.size(1) != heads || k.size(3) != state.s.size(2) || v.size(3) != state.s.size(3)) {
            throw new IllegalArgumentException("RetentionAttention.step: q, k (B, H, 1, D) and v (B, H, 1, Dv) must match the state "
                    + Arrays.toString(state.s.shape()) + ", got " + Arrays.toString(q.shape()) + ", " + Arrays.toString(k.shape()) + ", "
                    + Arrays.toString(v.shape()));
        }
        try (var noGrad = GradMode.noGrad()) {
            Tensor decay = constant(k.dtype(), 1, 1, (i, j) -> 1).data(); // (1, H, 1, 1)
            state.s = state.s.mul(decay).add(k.mT().matmul(v)); // (B, H, D, Dv)
            return q.mul(1 / Math.sqrt(q.size(3))).matmul(state.s); // (B, H, 1, Dv)
        }
    }
}
