package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AftAttentionTest {

    /**
     * Y_t = σ(Q_t) ⊙ Σ exp(K + w') V / Σ exp(K + w') over allowed keys, per channel, in plain double
     * loops; w' is w (P × P) at (p_t, t'), zeroed outside the window when window > 0, and 0 when w is null
     * (AFT-simple). The per-channel max is subtracted, so large keys stay finite.
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, double[][] w, int window, AttentionMask mask) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2);
        double[] qa = q.toDoubleArray();
        double[] ka = k.toDoubleArray();
        double[] va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * d];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    int p = mask.queryOffset() + i;
                    for (int c = 0; c < d; c++) {
                        double[] logit = new double[s];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < s; j++) {
                            double bias = w == null || (window > 0 && Math.abs(p - j) >= window) ? 0 : w[p][j];
                            logit[j] = ka[((b * heads + h) * s + j) * d + c] + bias;
                            if (mask.allowed(b, i, j, t, s)) {
                                max = Math.max(max, logit[j]);
                            }
                        }
                        double num = 0;
                        double den = 0;
                        for (int j = 0; j < s; j++) {
                            if (mask.allowed(b, i, j, t, s)) {
                                double e = Math.exp(logit[j] - max);
                                num += e * va[((b * heads + h) * s + j) * d + c];
                                den += e;
                            }
                        }
                        int o = ((b * heads + h) * t + i) * d + c;
                        out[o] = num / den / (1 + Math.exp(-qa[o]));
                    }
                }
            }
        }
        return out;
    }

    static double[][] rows(Tensor w) {
        double[][] r = new double[w.size(0)][];
        for (int i = 0; i < r.length; i++) {
            r[i] = w.select(0, i).toDoubleArray();
        }
        return r;
    }

    /** variant 0: full, 1: local (window 2), 2: simple; a small block budget splits the queries in the full forms. */
    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 0, max = 2) int variant, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 2, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1 + seed % 3, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        Tensor w = AttentionReference.randn(seed + 3, 1.5, s + 1, s + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Variable out = switch (variant) {
            case 0, 1 -> AftAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), Variable.constant(w),
                    variant == 1 ? 2 : 0, mask, 1L + seed % (b * h * d * s * 2));
            default -> AftAttention.attendSimple(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        };
        assertEquals(DType.F64, out.dtype());
        double[] expected = reference(q, k, v, variant == 2 ? null : rows(w), variant == 1 ? 2 : 0, mask);
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** q, k, v and the bias w by central differences in F64, each variant under each mask kind. */
    @Test
    void gradients() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 5);
            Tensor q = AttentionReference.randn(1, 1, 2, 2, 3, 3);
            Tensor k = AttentionReference.randn(2, 1, 2, 2, 4, 3);
            Tensor v = AttentionReference.randn(3, 1, 2, 2, 4, 3);
            Tensor w = AttentionReference.randn(4, 1, 4, 4);
            for (int window : new int[] {0, 2}) {
                GradCheck.check(in -> AftAttention.attend(in[0], in[1], in[2], in[3], window, mask, 40), q, k, v, w);
            }
            GradCheck.check(in -> AftAttention.attendSimple(in[0], in[1], in[2], mask), q, k, v);
        }
    }

    /** Keys a thousand apart: the per-channel max keeps F32 finite, and the result matches the double reference. */
    @Test
    void stableForLargeKeysAndBiases() {
        Tensor q = AttentionReference.randn(11, 1, 1, 2, 6, 3);
        Tensor k = AttentionReference.randn(12, 400, 1, 2, 6, 3);
        Tensor v = AttentionReference.randn(13, 1, 1, 2, 6, 3);
        Tensor w = AttentionReference.randn(14, 400, 6, 6);
        AttentionMask mask = AttentionMask.causalOnly();
        Tensor full = AftAttention.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), Variable.constant(w.to(DType.F32)), 0, mask).data();
        AttentionReference.assertClose(reference(q, k, v, rows(w), 0, mask), full, 1e-4);
        Tensor kSimple = AttentionReference.randn(12, 20, 1, 2, 6, 3); // within the shared shift's F32 range (see the javadoc)
        Tensor simple = AftAttention.attendSimple(Variable.constant(q.to(DType.F32)), Variable.constant(kSimple.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), mask).data();
        AttentionReference.assertClose(reference(q, kSimple, v, null, 0, mask), simple, 1e-4);
    }

    /** Decoding a token at a time (the KV-cache path: queries at offset S − T) gives the full causal rows. */
    @Test
    void cachedDecodingEqualsFull() {
        for (AftAttention kernel : new AftAttention[] {new AftAttention(8), new AftAttention(AftAttention.Variant.LOCAL, 8, 3),
                new AftAttention(AftAttention.Variant.SIMPLE, 8, 0)}) {
            if (kernel.variant() != AftAttention.Variant.SIMPLE) {
                kernel.loadStateDict(Map.of("position_bias", AttentionReference.randn(20, 1, 8, 8).to(DType.F32)), true);
            }
            CachedDecoding.assertCachedEqualsFull(kernel);
        }
    }

    /** The bias is the trainable, checkpointed parameter position_bias (maxT × maxT, F32, zero at start); SIMPLE has none. */
    @Test
    void positionBiasIsAParameter() {
        AftAttention kernel = new AftAttention(5);
        assertEquals(Set.of("position_bias"), kernel.namedParameters().keySet());
        Tensor w = kernel.namedParameters().get("position_bias").data();
        assertArrayEquals(new int[] {5, 5}, w.shape());
        assertEquals(DType.F32, w.dtype());
        assertEquals(0.0, w.abs().max(false).item());
        assertTrue(new AftAttention(AftAttention.Variant.SIMPLE, 5, 0).namedParameters().isEmpty());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 1, 2, 4, 3).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 2, 4, 3).to(DType.F32));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        Tensor grad = kernel.namedParameters().get("position_bias").grad();
        assertArrayEquals(new int[] {5, 5}, grad.shape());
        assertNotEquals(0.0, grad.getDouble(3, 1), "an allowed (query, key) pair gets a gradient");
        assertEquals(0.0, grad.getDouble(1, 3), "a future key gets none under the causal mask");
        assertEquals(0.0, grad.getDouble(4, 0), "no query sits at position 4");
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(0));
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(AftAttention.Variant.FULL, 4, 2));
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(AftAttention.Variant.LOCAL, 4, 0));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        Variable v5 = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(4).attend(q, q, v5, AttentionMask.NONE));
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(2).attend(q, q, q, AttentionMask.NONE));
        assertThrows(IllegalArgumentException.class, () -> new AftAttention(3).attend(q, q, q, new AttentionMask(true, null, 1)));
    }
}
