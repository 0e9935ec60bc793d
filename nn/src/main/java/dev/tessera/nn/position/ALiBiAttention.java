package dev.tessera.nn.position;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KernelSupport;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;

/**
 * ALiBi, attention with linear biases (C4): Press, Smith &amp; Lewis, "Train Short, Test Long:
 * Attention with Linear Biases Enables Input Length Extrapolation", ICLR 2022. No position
 * embeddings; each head h adds a fixed linear penalty to its scores:
 *
 * <pre>
 *   score_h(i, j) = q_i · k_j / √D − m_h · (i − j),   j ≤ i (causal)
 *   m_h = 2^(−8h/H), h = 1..H, for H a power of two
 * </pre>
 *
 * For other H the paper's rule (the reference {@code get_slopes}) takes the 2^⌊log₂H⌋ slopes of the
 * nearest lower power of two and fills the rest with every other slope of 2·2^⌊log₂H⌋ heads.
 * Query t sits at absolute position i = queryOffset + t, so decoding with a KV cache gives the
 * same scores as the full sequence. ALiBi is meant to be causal; under a non-causal mask the bias
 * is the symmetric −m_h·|i − j| (which equals the causal one wherever j ≤ i).
 */
public final class ALiBiAttention implements AttentionKernel {
    private final int heads;
    private final double[] slopes;

    public ALiBiAttention(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("ALiBiAttention: heads must be positive, got " + heads);
        }
        this.heads = heads;
        this.slopes = slopes(heads);
    }

    /** The paper's slopes m_1..m_H (reference get_slopes). */
    public static double[] slopes(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("ALiBiAttention.slopes: heads must be positive, got " + heads);
        }
        if (Integer.bitCount(heads) == 1) {
            double start = Math.pow(2, -8.0 / heads); // 2^(−2^−(log₂H − 3))
            double[] m = new double[heads];
            for (int h = 0; h < heads; h++) {
                m[h] = Math.pow(start, h + 1);
            }
            return m;
        }
        int closest = Integer.highestOneBit(heads);
        double[] base = slopes(closest);
        double[] extra = slopes(2 * closest);
        double[] m = new double[heads];
        System.arraycopy(base, 0, m, 0, closest);
        for (int i = 0; i < heads - closest; i++) {
            m[closest + i] = extra[2 * i];
        }
        return m;
    }

    public double[] slopes() {
        return slopes.clone();
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("ALiBiAttention", q, k, v, mask);
        if (q.size(1) != heads) {
            throw new IllegalArgumentException("ALiBiAttention: built for " + heads + " heads, got q with " + q.size(1));
        }
        int t = q.size(2);
        int s = k.size(2);
        Variable scores = q.matmul(k.mT()).mul(1 / Math.sqrt(q.size(3))); // (B, H, T, S)
        Variable biased = scores.add(OnDevice.constant(bias(t, s, mask.queryOffset()), q)); // (B, H, T, S)
        return KernelSupport.maskScores(biased, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }

    /** The (1, H, T, S) F64 bias −m_h·|i − j| with i = queryOffset + t, j = s. */
    public Tensor bias(int queries, int keys, int queryOffset) {
        double[] b = new double[heads * queries * keys];
        for (int h = 0; h < heads; h++) {
            for (int t = 0; t < queries; t++) {
                int i = queryOffset + t;
                for (int j = 0; j < keys; j++) {
                    b[(h * queries + t) * keys + j] = -slopes[h] * Math.abs(i - j);
                }
            }
        }
        return Tensor.of(Storage.wrap(dev.tessera.tensor.DType.F64, b), 1, heads, queries, keys);
    }
}
