package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import java.util.Arrays;

/**
 * Sinkformer attention (B21): Sander, Ablin, Blondel, Peyré, "Sinkformers: Transformers with
 * Doubly Stochastic Attention", AISTATS 2022. Softmax normalises the rows of K⁰ = exp(QKᵀ/√D);
 * Sinkhorn's algorithm alternates row and column normalisations, so the attention matrix tends to
 * a doubly stochastic one:
 *
 * <pre>
 *   K⁰ = exp(QKᵀ/√D)   (−∞ where a document mask forbids)
 *   K^{l+1} = N_R(K^l) for even l,  N_C(K^l) for odd l      N_R: rows sum to 1, N_C: columns sum to 1
 *   out = K^n V                                            (n = 1 is softmax attention)
 * </pre>
 *
 * It runs in log space: L ← L − logsumexp over keys, then L ← L − logsumexp over queries, ... as
 * transformers' SuperGlue {@code log_sinkhorn_iterations} does with uniform marginals (one of its
 * iterations is a row and a column normalisation, i.e. two here; the golden fixture compares the
 * two). The default n = 3 ends on a row normalisation, so each output is a convex combination of
 * values as in softmax attention. Column sums couple every query, so the kernel is bidirectional
 * only: it refuses a causal mask, and needs T = S (a square, self-attention matrix).
 */
public final class SinkformerAttention implements AttentionKernel {

    /** @param iterations n, the number of alternating normalisations (1..100; 1 is softmax) */
    public record Options(int iterations) {
        public static final Options DEFAULT = new Options(3);

        public Options {
            if (iterations < 1 || iterations > 100) {
                throw new IllegalArgumentException("SinkformerAttention: iterations must be in [1, 100], got " + iterations);
            }
        }
    }

    private final Options options;

    public SinkformerAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("SinkformerAttention: options are required");
        }
        this.options = options;
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("SinkformerAttention", q, k, v, mask);
        if (mask.causal()) {
            throw new IllegalArgumentException(
                    "SinkformerAttention: column normalisation couples every query, so it is bidirectional only; got a causal mask");
        }
        if (q.size(2) != k.size(2)) {
            throw new IllegalArgumentException("SinkformerAttention: Sinkhorn needs a square attention matrix, got T " + q.size(2)
                    + " != S " + k.size(2) + " (shapes " + Arrays.toString(q.shape()) + ", " + Arrays.toString(k.shape()) + ")");
        }
        Variable scores = KernelSupport.maskScores(q.matmul(k.mT()).mul(1 / Math.sqrt(q.size(3))), mask); // (B, H, T, T)
        return logSinkhorn(scores, options.iterations()).exp().matmul(v); // (B, H, T, Dv)
    }

    /** log K^n from log K⁰ (…, T, S): n alternating normalisations in log space, rows first. */
    public static Variable logSinkhorn(Variable logK, int normalisations) {
        Variable l = logK;
        for (int i = 0; i < normalisations; i++) {
            l = l.sub(l.logsumexp(true, i % 2 == 0 ? -1 : -2));
        }
        return l;
    }
}
