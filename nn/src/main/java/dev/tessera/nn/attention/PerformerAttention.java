package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Performer FAVOR+ attention (B2): Choromanski et al., "Rethinking Attention with Performers",
 * ICLR 2021. Softmax attention's kernel exp(q·k/√D) is estimated by positive orthogonal random
 * features, which makes attention linear in the sequence length:
 *
 * <pre>
 *   x' = x · D^(−1/4)                                  (for x = q and x = k)
 *   φ(x) = exp(W x' − |x'|²/2 − c) / √m,   W (m, D): rows of orthogonalised Gaussian blocks,
 *                                           each rescaled by an independent chi(D) norm
 *   E[φ(q)·φ(k)] ∝ exp(q'·k') = exp(q·k/√D)
 *   bidirectional:  out = D⁻¹ (φ(Q) (φ(K)ᵀ V)),   D = diag(φ(Q) (φ(K)ᵀ 1))
 *   causal:         out_t = φ(q_t)ᵀ Σ_{s≤t} φ(k_s) v_sᵀ / φ(q_t)ᵀ Σ_{s≤t} φ(k_s)   (prefix sums over time)
 * </pre>
 *
 * The stabiliser c is the numerically stable max-subtraction of the reference implementation: for
 * a query the max over its own features, for keys one max over all keys and features of a (batch,
 * head). Each is a constant factor of a whole numerator and its denominator, so it cancels
 * exactly (no ε is added, unlike the reference code, so nothing breaks the cancellation).
 *
 * <p>Masks: without a mask the bidirectional form runs in O((T+S)·m·D); with a causal and/or
 * document mask the sums are prefix sums restarted at each document run, shared with B3 in
 * {@link LinearAttentionSums} (whose javadoc says why restarting matters in F32).
 *
 * <p>{@link #newState}/{@link #step} decode one token at a time with the running state
 * S = Σ φ(k_s) v_sᵀ, z = Σ φ(k_s) (rescaled whenever the running key max c grows, as in an online
 * softmax), equal to the full causal form. {@link #attendQuadratic} is the T×S form with the same
 * features, for comparison. Features are redrawn by {@link #redrawFeatures} or, in training,
 * every N calls ({@link #redrawEvery}). The projection is a persistent buffer named
 * {@code projection_matrix}; everything else is computed in the inputs' dtype.
 */
public final class PerformerAttention extends Module implements AttentionKernel {
    private final int headDim;
    private final int features;
    private final boolean orthogonal;
    private int redrawInterval;
    private Generator redrawGenerator;
    private int callsSinceRedraw;

    /** Orthogonal features. */
    public PerformerAttention(int headDim, int features, Generator g) {
        this(headDim, features, true, g);
    }

    public PerformerAttention(int headDim, int features, boolean orthogonal, Generator g) {
        if (headDim <= 0 || features <= 0) {
            throw new IllegalArgumentException("PerformerAttention: headDim and features must be positive, got " + headDim + ", " + features);
        }
        this.headDim = headDim;
        this.features = features;
        this.orthogonal = orthogonal;
        buffer("projection_matrix", randomFeatures(features, headDim, orthogonal, g), true);
    }

    /**
     * W (m, D) in F32: orthogonal — ⌈m/D⌉ blocks of D Gaussian rows orthonormalised by
     * (twice-applied modified) Gram–Schmidt, stacked and cut to m rows; or i.i.d. N(0, 1) rows;
     * each row of an orthogonal W is rescaled by the norm of an independent N(0, I_D) vector, so
     * rows are marginally N(0, I_D) as the estimator needs.
     */
    public static Tensor randomFeatures(int m, int d, boolean orthogonal, Generator g) {
        double[] w = new double[m * d];
        if (!orthogonal) {
            for (int i = 0; i < w.length; i++) {
                w[i] = g.nextGaussian();
            }
            return Tensor.of(w, m, d).to(DType.F32);
        }
        for (int block = 0; block * d < m; block++) {
            double[][] rows = new double[d][d];
            for (double[] r : rows) {
                for (int j = 0; j < d; j++) {
                    r[j] = g.nextGaussian();
                }
            }
            gramSchmidt(rows);
            for (int r = 0; r < d && block * d + r < m; r++) {
                System.arraycopy(rows[r], 0, w, (block * d + r) * d, d);
            }
        }
        for (int i = 0; i < m; i++) {
            double sq = 0;
            for (int j = 0; j < d; j++) {
                double x = g.nextGaussian();
                sq += x * x;
            }
            double chi = Math.sqrt(sq);
            for (int j = 0; j < d; j++) {
                w[i * d + j] *= chi;
            }
        }
        return Tensor.of(w, m, d).to(DType.F32);
    }

    private static void gramSchmidt(double[][] rows) {
        for (int i = 0; i < rows.length; i++) {
            for (int pass = 0; pass < 2; pass++) {
                for (int j = 0; j < i; j++) {
                    double dot = 0;
                    for (int c = 0; c < rows[i].length; c++) {
                        dot += rows[i][c] * rows[j][c];
                    }
                    for (int c = 0; c < rows[i].length; c++) {
                        rows[i][c] -= dot * rows[j][c];
                    }
                }
            }
            double norm = 0;
            for (double x : rows[i]) {
                norm += x * x;
            }
            norm = Math.sqrt(norm);
            for (int c = 0; c < rows[i].length; c++) {
                rows[i][c] /= norm;
            }
        }
    }

    /** The current W (m, D). */
    public Tensor projection() {
        return getBuffer("projection_matrix");
    }

    public int numFeatures() {
        return features;
    }

    /** Draws a fresh W from {@code g}. */
    public void redrawFeatures(Generator g) {
        setBuffer("projection_matrix", randomFeatures(features, headDim, orthogonal, g));
        callsSinceRedraw = 0;
    }

    /** In training mode, redraws W from {@code g} before every {@code interval}-th call (0 turns it off). */
    public PerformerAttention redrawEvery(int interval, Generator g) {
        if (interval < 0 || (interval > 0 && g == null)) {
            throw new IllegalArgumentException("PerformerAttention: redraw interval must be >= 0 with a generator, got " + interval);
        }
        this.redrawInterval = interval;
        this.redrawGenerator = g;
        this.callsSinceRedraw = 0;
        return this;
    }

    /** W x' − |x'|²/2 with x' = x·D^(−1/4): (…, L, D) → (…, L, m), the features' log before stabilising. */
    public Variable featureLogits(Variable x) {
        if (x.size(-1) != headDim) {
            throw new IllegalArgumentException("PerformerAttention: head dim " + x.size(-1) + " but features were drawn for " + headDim);
        }
        Variable xs = x.mul(Math.pow(headDim, -0.25));
        Variable w = Variable.constant(projection().to(x.dtype()));
        return xs.matmul(w.mT()).sub(xs.square().sum(true, -1).mul(0.5)); // (…, L, m)
    }

    /** φ(x) with the query stabiliser (max over each row's features) or the key stabiliser (max over all of a head's keys). */
    public Variable features(Variable x, boolean query) {
        Variable logits = featureLogits(x); // (B, H, L, m)
        Tensor c = query ? logits.data().max(true, -1) : logits.data().max(true, -2, -1); // (B, H, L, 1) or (B, H, 1, 1)
        return logits.sub(Variable.constant(c)).exp().mul(1 / Math.sqrt(features));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("PerformerAttention", q, k, v, mask);
        if (redrawInterval > 0 && isTraining()) {
            if (callsSinceRedraw >= redrawInterval) {
                redrawFeatures(redrawGenerator);
            }
            callsSinceRedraw++;
        }
        return LinearAttentionSums.attend("PerformerAttention", features(q, true), features(k, false), v, mask);
    }

    /**
     * The T×S form with the same features: A = φ(Q) φ(K)ᵀ, zeroed where the mask forbids,
     * out = (A V) / (A 1). Quadratic memory; for tests and comparison.
     */
    public Variable attendQuadratic(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("PerformerAttention", q, k, v, mask);
        return LinearAttentionSums.attendQuadratic(features(q, true), features(k, false), v, mask);
    }

    // ------------------------------------------------------------------ recurrent decoding

    /** Running sums for causal decoding: S (B, H, m, Dv), z (B, H, 1, m), and the running key stabiliser c (B, H, 1, 1). */
    public static final class State {
        private Tensor s;
        private Tensor z;
        private Tensor c;
        private int steps;

        private State(Tensor s, Tensor z, Tensor c) {
            this.s = s;
            this.z = z;
            this.c = c;
        }

        /** Number of tokens consumed. */
        public int steps() {
            return steps;
        }
    }

    public State newState(int batch, int heads, int valueDim, DType dtype) {
        return new State(Tensor.zeros(dtype, batch, heads, features, valueDim), Tensor.zeros(dtype, batch, heads, 1, features),
                Tensor.full(Double.NEGATIVE_INFINITY, dtype, batch, heads, 1, 1));
    }

    /**
     * Consumes one token, q, k (B, H, 1, D) and v (B, H, 1, Dv), and returns its output (B, H, 1, Dv):
     * c' = max(c, max φ-logits(k)); S ← e^(c−c') S + φ(k) vᵀ; z ← e^(c−c') z + φ(k); out = φ(q)ᵀS / φ(q)ᵀz.
     */
    public Tensor step(State state, Tensor q, Tensor k, Tensor v) {
        if (q.rank() != 4 || q.size(2) != 1 || k.size(2) != 1 || v.size(2) != 1) {
            throw new IllegalArgumentException("PerformerAttention.step: q, k, v must be (B, H, 1, D), got "
                    + java.util.Arrays.toString(q.shape()) + ", " + java.util.Arrays.toString(k.shape()) + ", "
                    + java.util.Arrays.toString(v.shape()));
        }
        try (var noGrad = dev.tessera.autograd.GradMode.noGrad()) {
            Tensor logits = featureLogits(Variable.constant(k)).data(); // (B, H, 1, m)
            Tensor cNew = state.c.maximum(logits.max(true, -1)); // (B, H, 1, 1)
            Tensor decay = state.c.sub(cNew).exp(); // (B, H, 1, 1)
            Tensor fk = logits.sub(cNew).exp().mul(1 / Math.sqrt(features)); // (B, H, 1, m)
            state.s = state.s.mul(decay).add(fk.mT().matmul(v)); // (B, H, m, Dv)
            state.z = state.z.mul(decay).add(fk); // (B, H, 1, m)
            state.c = cNew;
            state.steps++;
            Tensor fq = features(Variable.constant(q), true).data(); // (B, H, 1, m)
            return fq.matmul(state.s).div(fq.matmul(state.z.mT())); // (B, H, 1, Dv)
        }
    }
}
