package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class NormalizedAttentionTest {

    /** a_ij = (s_ij − μ_i)/√(σ_i² + ε) over the allowed keys, out_i = Σ_j a_ij v_j, in plain double loops. */
    static double[] naive(Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), s = k.size(2), d = q.size(3), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double[] scores = new double[s];
                    int n = 0;
                    double mean = 0;
                    for (int j = 0; j < s; j++) {
                        if (mask.allowed(b, i, j, t, s)) {
                            scores[j] = AttentionReference.dot(AttentionReference.row(qa, q.shape(), b, h, i),
                                    AttentionReference.row(ka, k.shape(), b, h, j)) / Math.sqrt(d);
                            mean += scores[j];
                            n++;
                        }
                    }
                    mean /= n;
                    double var = 0;
                    for (int j = 0; j < s; j++) {
                        if (mask.allowed(b, i, j, t, s)) {
                            var += (scores[j] - mean) * (scores[j] - mean) / n;
                        }
                    }
                    for (int j = 0; j < s; j++) {
                        if (mask.allowed(b, i, j, t, s)) {
                            double a = (scores[j] - mean) / Math.sqrt(var + NormalizedAttention.EPS);
                            for (int c = 0; c < dv; c++) {
                                out[((b * heads + h) * t + i) * dv + c] += a * va[((b * heads + h) * s + j) * dv + c];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1 + seed % 3, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Variable out = new NormalizedAttention().attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(naive(q, k, v, mask), out.data(), 1e-10);
    }

    /** q, k, v by central differences under every mask kind (rows with a single key included, where the weights are 0). */
    @Test
    void gradients() {
        NormalizedAttention kernel = new NormalizedAttention();
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 3, 3),
                    AttentionReference.randn(2, 1, 2, 2, 4, 3), AttentionReference.randn(3, 1, 2, 2, 4, 2));
        }
    }

    /** Out of the cage: the weights of every row sum to 0, so constant values give a zero output (softmax would return them). */
    @Test
    void weightsSumToZero() {
        Variable q = Variable.constant(AttentionReference.randn(4, 1, 2, 2, 4, 3));
        Variable k = Variable.constant(AttentionReference.randn(5, 1, 2, 2, 6, 3));
        Variable ones = Variable.constant(Tensor.full(1, DType.F64, 2, 2, 6, 2));
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 6, 9);
            AttentionReference.assertClose(new double[2 * 2 * 4 * 2], new NormalizedAttention().attend(q, k, ones, mask).data(), 1e-12);
        }
    }

    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new NormalizedAttention());
    }
}
