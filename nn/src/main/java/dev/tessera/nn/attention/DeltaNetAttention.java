package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * DeltaNet, the fast-weight programmer with the delta rule (B3): Schlag, Irie, Schmidhuber, "Linear
 * Transformers Are Secretly Fast Weight Programmers", ICML 2021; parallel over the sequence by
 * Yang, Wang, Zhang, Shen, Kim, "Parallelizing Linear Transformers with the Delta Rule over
 * Sequence Length", NeurIPS 2024. Linear attention only adds to its fast-weight memory; the delta
 * rule first reads what the memory holds for the key and writes back a β-interpolation towards v:
 *
 * <pre>
 *   k̂ = k/√(|k|² + ε),  q̂ = q/√(|q|² + ε)                      (ε = 1e−6)
 *   β_t = σ(w_βᵀ k_t + b_β)                                        (per head; w_β (H, D), b_β (H))
 *   S_t = S_{t−1} + β_t (v_t − S_{t−1} k̂_t) k̂_tᵀ = S_{t−1}(I − β_t k̂_t k̂_tᵀ) + β_t v_t k̂_tᵀ,   S_0 = 0
 *   out_t = S_t q̂_t
 * </pre>
 *
 * The paper projects β from the block input x; a kernel only sees q, k, v, so here β is a learned
 * linear function of the (unnormalised) key, which is itself W_k x: the β projection W_β = w_βᵀ W_k,
 * restricted to the span of each head's key rows. As in the papers there is no 1/√D scale.
 *
 * <p>{@link #attend} is the chunkwise-parallel form (Yang et al. §3): in a chunk of C positions
 * with state S₀ (held as S₀ᵀ, D × Dv), the updates u_t = β_t (v_t − S_{t−1} k̂_t) solve the unit
 * lower-triangular system (I + tril₋₁(diag(β) K̂K̂ᵀ)) U = diag(β)(V − K̂ S₀ᵀ), whose inverse is the
 * product (I − L)(I + L²)(I + L⁴)… of the nilpotent L (log₂ C matmuls, no division); then
 * O = Q̂ S₀ᵀ + tril(Q̂K̂ᵀ) U and S₀ᵀ ← S₀ᵀ + K̂ᵀU. {@link #newState}/{@link #step} is the recurrent
 * form, one token in O(D·Dv); the tests hold the two to each other and to the recurrence in double
 * loops. The rule is causal: a non-causal mask is an error. Document masks restart S at each
 * document's first position (documents must be contiguous runs); with a KV cache the queries are
 * the last T of the S positions and the recurrence is rerun over all S keys.
 */
public final class DeltaNetAttention extends Module implements AttentionKernel {
    public static final double EPS = KeyNormAttention.EPS;
    /** Positions per chunk of the parallel form. */
    public static final int DEFAULT_CHUNK = 16;

    private final int heads;
    private final int headDim;
    private final int chunk;
    private final Variable betaWeight;
    private final Variable betaBias;

    /** β starts at σ(0) = ½ for every token (w_β = 0, b_β = 0). */
    public DeltaNetAttention(int heads, int headDim) {
        this(heads, headDim, DEFAULT_CHUNK);
    }

    public DeltaNetAttention(int heads, int headDim, int chunk) {
        if (heads <= 0 || headDim <= 0 || chunk <= 0) {
            throw new IllegalArgumentException("DeltaNetAttention: heads, headDim and chunk must be positive, got " + heads + ", "
                    + headDim + ", " + chunk);
        }
        this.heads = heads;
        this.headDim = headDim;
        this.chunk = chunk;
        this.betaWeight = parameter("beta_weight", Tensor.zeros(DType.F32, heads, headDim));
        this.betaBias = parameter("beta_bias", Tensor.zeros(DType.F32, heads));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        checkHeads(q);
        return attend(q, k, v, betaWeight.to(q.dtype()), betaBias.to(q.dtype()), mask, chunk);
    }

    private void checkHeads(Variable q) {
        if (q.size(1) != heads || q.size(3) != headDim) {
            throw new IllegalArgumentException("DeltaNetAttention: made for " + heads + " heads of size " + headDim + ", got q "
                    + Arrays.toString(q.shape()));
        }
    }

    /** β = σ(w_βᵀ k + b_β): k (B, H, S, D), w (H, D), b (H) → (B, H, S, 1). */
    static Variable beta(Variable k, Variable w, Variable b) {
        int h = w.size(0);
        return k.mul(w.view(1, h, 1, w.size(1))).sum(true, -1).add(b.view(1, h, 1, 1)).sigmoid();
    }

    /**
     * The chunkwise-parallel form as a function of the β parameters, w_β (H, D) and b_β (H) in the
     * inputs' dtype, so their gradients can be checked like the inputs'.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable betaWeight, Variable betaBias, AttentionMask mask,
            int chunk) {
        KernelSupport.checkShapes("DeltaNetAttention", q, k, v, mask);
        int bsz = q.size(0), h = q.size(1), t = q.size(2), s = k.size(2), d = q.size(3);
        if (!mask.causal() || mask.queryOffset() != s - t) {
            throw new IllegalArgumentException("DeltaNetAttention: the delta rule is causal with the queries at the last T of S positions;"
                    + " got causal=" + mask.causal() + ", queryOffset " + mask.queryOffset() + " for T " + t + ", S " + s);
        }
        Variable qn = KeyNormAttention.l2Normalize(q); // (B, H, T, D)
        if (t < s) {
            qn = Variable.cat(2, OnDevice.zeros(q, bsz, h, s - t, d), qn); // (B, H, S, D): no output wanted before T
        }
        Variable kn = KeyNormAttention.l2Normalize(k); // (B, H, S, D)
        Variable b = beta(k, betaWeight, betaBias); // (B, H, S, 1)
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] outs = new Variable[rows];
        for (int r = 0; r < rows; r++) {
            long[] doc = KernelSupport.documentRow(mask, r);
            int[] starts = doc == null ? new int[] {0} : LinearAttentionSums.documentRuns("DeltaNetAttention", doc, r);
            List<Variable> parts = new ArrayList<>();
            for (int i = 0; i < starts.length; i++) {
                int end = i + 1 < starts.length ? starts[i + 1] : s;
                Variable[] run = new Variable[4];
                Variable[] all = {qn, kn, v, b};
                for (int j = 0; j < 4; j++) {
                    Variable x = rows == 1 ? all[j] : all[j].narrow(0, r, 1);
                    run[j] = x.narrow(2, starts[i], end - starts[i]);
                }
                parts.add(chunkwise(run[0], run[1], run[2], run[3], chunk));
            }
            outs[r] = parts.size() == 1 ? parts.get(0) : Variable.cat(2, parts.toArray(Variable[]::new)); // (1|B, H, S, Dv)
        }
        Variable out = rows == 1 ? outs[0] : Variable.cat(0, outs); // (B, H, S, Dv)
        return t < s ? out.narrow(2, s - t, t) : out; // (B, H, T, Dv)
    }

    /** One document run from S = 0: q̂, k̂ (…, L, D), v (…, L, Dv), β (…, L, 1) → out (…, L, Dv). */
    private static Variable chunkwise(Variable qn, Variable kn, Variable v, Variable beta, int chunk) {
        int len = kn.size(2);
        int[] stateShape = kn.shape();
        stateShape[2] = kn.size(3);
        stateShape[3] = v.size(3);
        Variable state = OnDevice.zeros(kn, stateShape); // Sᵀ (…, D, Dv)
        List<Variable> outs = new ArrayList<>();
        for (int c0 = 0; c0 < len; c0 += chunk) {
            int c = Math.min(chunk, len - c0);
            Variable qc = qn.narrow(2, c0, c), kc = kn.narrow(2, c0, c), vc = v.narrow(2, c0, c), bc = beta.narrow(2, c0, c);
            Variable kb = kc.mul(bc); // diag(β) K̂ (…, C, D)
            Variable inv = unitLowerInverse(kb.matmul(kc.mT()).tril(-1)); // (I + L)⁻¹ (…, C, C)
            Variable u = inv.matmul(vc.mul(bc).sub(kb.matmul(state))); // U (…, C, Dv)
            outs.add(qc.matmul(state).add(qc.matmul(kc.mT()).tril(0).matmul(u))); // (…, C, Dv)
            state = state.add(kc.mT().matmul(u)); // (…, D, Dv)
        }
        return outs.size() == 1 ? outs.get(0) : Variable.cat(2, outs.toArray(Variable[]::new));
    }

    /** (I + L)⁻¹ = Σ_n (−L)^n = (I − L)(I + L²)(I + L⁴)… for a strictly lower-triangular (…, C, C) L. */
    static Variable unitLowerInverse(Variable l) {
        int c = l.size(-1);
        Variable n = l.neg();
        Variable r = n.add(OnDevice.constant(Tensor.eye(c, l.dtype()), l)); // I − L: powers 0 and 1
        for (int covered = 2; covered < c; covered *= 2) {
            n = n.matmul(n); // (−L)^covered
            r = r.add(r.matmul(n)); // powers 0 … 2·covered − 1
        }
        return r;
    }

    // ------------------------------------------------------------------ recurrent decoding

    /** The fast weights Sᵀ (B, H, D, Dv) of causal decoding. */
    public static final class State {
        private Tensor s;
        private int steps;

        private State(Tensor s) {
            this.s = s;
        }

        /** Number of tokens consumed. */
        public int steps() {
            return steps;
        }
    }

    public State newState(int batch, int valueDim, DType dtype) {
        return new State(Tensor.zeros(dtype, batch, heads, headDim, valueDim));
    }

    /**
     * Consumes one token, q, k (B, H, 1, D) and v (B, H, 1, Dv), and returns its output (B, H, 1, Dv):
     * u = β (v − S k̂); S ← S + u k̂ᵀ; out = S q̂.
     */
    public Tensor step(State state, Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.size(2) != 1 || k.size(2) != 1 || v.size(2) != 1
                || k.size(1) != heads || k.size(3) != headDim || v.size(3) != state.s.size(3)) {
            throw new IllegalArgumentException("DeltaNetAttention.step: q, k (B, H, 1, D) and v (B, H, 1, Dv) must match the state "
                    + Arrays.toString(state.s.shape()) + ", got " + Arrays.toString(q.shape()) + ", " + Arrays.toString(k.shape()) + ", "
                    + Arrays.toString(v.shape()));
        }
        try (var noGrad = GradMode.noGrad()) {
            Variable kv = Variable.constant(k);
            Tensor kn = KeyNormAttention.l2Normalize(kv).data(); // (B, H, 1, D)
            Tensor b = beta(kv, betaWeight.to(k.dtype()), betaBias.to(k.dtype())).data(); // (B, H, 1, 1)
            Tensor u = v.sub(kn.matmul(state.s)).mul(b); // (B, H, 1, Dv)
            state.s = state.s.add(kn.mT().matmul(u)); // (B, H, D, Dv)
            state.steps++;
            return KeyNormAttention.l2Normalize(Variable.constant(q)).data().matmul(state.s); // (B, H, 1, Dv)
        }
    }
}
