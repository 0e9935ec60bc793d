package dev.tessera.nn.attention;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * The average attention network (B28): Zhang, Xiong, Su, "Accelerating Neural Transformer via an
 * Average Attention Network", ACL 2018. Decoder self-attention is replaced by a cumulative average
 * of the inputs, a feed-forward layer on it, and a gating layer that mixes it with the input:
 *
 * <pre>
 *   g_j = FFN( (1/j) Σ_{k≤j} y_k ),      FFN(x) = max(0, x W₁ + b₁) W₂ + b₂
 *   [i_j; f_j] = σ( [y_j; g_j] W_g + b_g )             (input and forget gates)
 *   h_j = i_j ⊙ y_j + f_j ⊙ g_j
 * </pre>
 *
 * <p><b>Departure (named):</b> the paper applies AAN to the whole model-width decoder input y; a
 * kernel only sees per-head q, k, v, so here y = v per head (the value projection of the block
 * input), and the FFN (W₁ (H, D, F), F = {@value #FFN_RATIO}·D, b₁, W₂ (H, F, D), b₂) and the gates
 * (W_g (H, 2D, 2D), b_g (H, 2D)) are applied per head over the head dim, as kernel-owned parameters
 * (saved as {@code kernel.ffn_up_weight} etc. and trained with the rest). q and k are unused (their
 * projections get no gradient). The block's output projection and residual/norm follow as usual,
 * in place of the paper's residual + layer norm around the AAN sub-layer.
 *
 * <p>The average is causal by construction: a non-causal mask is an error (AAN is a decoder
 * component). {@link #attend} computes the prefix sums over all S positions at once (O(S·D)) and
 * divides by the count; with Llama 3 document masks the average restarts at each document's first
 * position (documents must be contiguous runs); with a KV cache the queries are the last T of the S
 * positions. {@link #newState}/{@link #step} is the decoding form the paper gives: a running sum,
 * O(D) per token for the average; the tests hold it equal to the full form.
 */
public final class AverageAttention extends Module implements AttentionKernel {
    /** FFN inner width per head, as a multiple of the head dim (the Transformer's usual 4·d). */
    public static final int FFN_RATIO = 4;

    private final int heads;
    private final int headDim;
    private final Variable upWeight;
    private final Variable upBias;
    private final Variable downWeight;
    private final Variable downBias;
    private final Variable gateWeight;
    private final Variable gateBias;

    /** Weights U(±1/√fan_in) as torch.nn.Linear's default, biases zero. */
    public AverageAttention(int heads, int headDim, Generator g) {
        if (heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("AverageAttention: heads and headDim must be positive, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        int f = FFN_RATIO * headDim;
        this.upWeight = parameter("ffn_up_weight", uniform(g, headDim, heads, headDim, f));
        this.upBias = parameter("ffn_up_bias", Tensor.zeros(DType.F32, heads, f));
        this.downWeight = parameter("ffn_down_weight", uniform(g, f, heads, f, headDim));
        this.downBias = parameter("ffn_down_bias", Tensor.zeros(DType.F32, heads, headDim));
        this.gateWeight = parameter("gate_weight", uniform(g, 2 * headDim, heads, 2 * headDim, 2 * headDim));
        this.gateBias = parameter("gate_bias", Tensor.zeros(DType.F32, heads, 2 * headDim));
    }

    private static Tensor uniform(Generator g, int fanIn, int... shape) {
        double bound = 1 / Math.sqrt(fanIn);
        return Init.uniform(g, -bound, bound, shape);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        if (v.rank() != 4 || v.size(1) != heads || v.size(3) != headDim) {
            throw new IllegalArgumentException("AverageAttention: made for " + heads + " heads of size " + headDim + ", got v "
                    + Arrays.toString(v.shape()));
        }
        return attend(q, k, v, params(v.dtype()), mask);
    }

    /** {W₁, b₁, W₂, b₂, W_g, b_g} in the inputs' dtype. */
    private Variable[] params(DType dt) {
        return new Variable[] {upWeight.to(dt), upBias.to(dt), downWeight.to(dt), downBias.to(dt), gateWeight.to(dt), gateBias.to(dt)};
    }

    /**
     * The full form as a function of the parameters {W₁, b₁, W₂, b₂, W_g, b_g} in v's dtype (shapes as
     * in the class javadoc), so their gradients can be checked like the inputs'.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable[] params, AttentionMask mask) {
        KernelSupport.checkShapes("AverageAttention", q, k, v, mask);
        int bsz = v.size(0), t = q.size(2), s = v.size(2);
        if (!mask.causal() || mask.queryOffset() != s - t) {
            throw new IllegalArgumentException("AverageAttention: the average attention network is a causal decoder component; got causal="
                    + mask.causal() + ", queryOffset " + mask.queryOffset() + " for T " + t + ", S " + s);
        }
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] sums = new Variable[rows];
        double[] count = new double[rows * s];
        for (int r = 0; r < rows; r++) {
            long[] doc = KernelSupport.documentRow(mask, r);
            int[] starts = doc == null ? new int[] {0} : LinearAttentionSums.documentRuns("AverageAttention", doc, r);
            Variable x = rows == 1 ? v : v.narrow(0, r, 1); // (1|B, H, S, D)
            Variable[] parts = new Variable[starts.length];
            for (int i = 0; i < starts.length; i++) {
                int end = i + 1 < starts.length ? starts[i + 1] : s;
                parts[i] = x.narrow(2, starts[i], end - starts[i]).cumsum(2); // this document's prefix sums
                for (int j = starts[i]; j < end; j++) {
                    count[r * s + j] = j - starts[i] + 1;
                }
            }
            sums[r] = parts.length == 1 ? parts[0] : Variable.cat(2, parts);
        }
        Variable sum = rows == 1 ? sums[0] : Variable.cat(0, sums); // (B, H, S, D)
        Variable mean = sum.div(OnDevice.constant(Tensor.of(count, rows, 1, s, 1), v)); // (B, H, S, D)
        if (t < s) {
            mean = mean.narrow(2, s - t, t); // (B, H, T, D)
            v = v.narrow(2, s - t, t);
        }
        return gate(v, mean, params); // (B, H, T, D)
    }

    /** h = i ⊙ y + f ⊙ g with g = FFN(mean), [i; f] = σ([y; g] W_g + b_g): y, mean (B, H, T, D) → (B, H, T, D). */
    private static Variable gate(Variable y, Variable mean, Variable[] p) {
        if (p.length != 6) {
            throw new IllegalArgumentException("AverageAttention: expected 6 parameters {W1, b1, W2, b2, Wg, bg}, got " + p.length);
        }
        int h = y.size(1), d = y.size(3);
        Variable up = mean.matmul(p[0].unsqueeze(0)).add(p[1].view(1, h, 1, p[1].size(1))).relu(); // (B, H, T, F)
        Variable g = up.matmul(p[2].unsqueeze(0)).add(p[3].view(1, h, 1, d)); // (B, H, T, D)
        Variable gates = Variable.cat(3, y, g).matmul(p[4].unsqueeze(0)).add(p[5].view(1, h, 1, 2 * d)).sigmoid(); // (B, H, T, 2D)
        return gates.narrow(3, 0, d).mul(y).add(gates.narrow(3, d, d).mul(g));
    }

    // ------------------------------------------------------------------ decoding

    /** The running sum Σ_{k≤j} y_k (B, H, 1, D) and count j of causal decoding. */
    public static final class State {
        private Tensor sum;
        private int steps;

        private State(Tensor sum) {
            this.sum = sum;
        }

        /** Number of tokens consumed. */
        public int steps() {
            return steps;
        }
    }

    public State newState(int batch, DType dtype) {
        return new State(Tensor.zeros(dtype, batch, heads, 1, headDim));
    }

    /** Consumes one token, v (B, H, 1, D) (q and k unused), and returns h (B, H, 1, D): sum += y; g = FFN(sum / j); gates. */
    public Tensor step(State state, Tensor q, Tensor k, Tensor v) {
        if (v.rank() != 4 || v.size(2) != 1 || v.size(0) != state.sum.size(0) || v.size(1) != heads || v.size(3) != headDim) {
            throw new IllegalArgumentException("AverageAttention.step: v must be (B, H, 1, D) matching the state "
                    + Arrays.toString(state.sum.shape()) + ", got " + Arrays.toString(v.shape()));
        }
        try (var noGrad = GradMode.noGrad()) {
            state.sum = state.sum.add(v); // (B, H, 1, D)
            state.steps++;
            Variable mean = Variable.constant(state.sum.div(state.steps)); // (B, H, 1, D)
            return gate(Variable.constant(v), mean, params(v.dtype())).data(); // (B, H, 1, D)
        }
    }
}
