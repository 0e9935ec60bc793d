package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class CosFormerAttentionTest {

    /** The quadratic form in double loops: Σ_j relu(q)·relu(k) cos(π(i−j)/2M) v_j / max(Σ_j …, ε) over allowed keys. */
    static double[] reference(int maxPositions, Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), s = k.size(2), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double[] qi = AttentionReference.row(qa, q.shape(), b, h, i);
                    double total = 0;
                    double[] acc = new double[dv];
                    for (int j = 0; j < s; j++) {
                        if (!mask.allowed(b, i, j, t, s)) {
                            continue;
                        }
                        double[] kj = AttentionReference.row(ka, k.shape(), b, h, j);
                        double dot = 0;
                        for (int c = 0; c < qi.length; c++) {
                            dot += Math.max(qi[c], 0) * Math.max(kj[c], 0);
                        }
                        double w = dot * Math.cos(Math.PI * (mask.queryOffset() + i - j) / (2.0 * maxPositions));
                        total += w;
                        for (int c = 0; c < dv; c++) {
                            acc[c] += w * va[((b * heads + h) * s + j) * dv + c];
                        }
                    }
                    for (int c = 0; c < dv; c++) {
                        out[((b * heads + h) * t + i) * dv + c] = acc[c] / Math.max(total, CosFormerAttention.EPS);
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesTheQuadraticReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 0, max = 6) int spareM, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        var kernel = new CosFormerAttention(new CosFormerAttention.Options(s + spareM));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d).add(0.3);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d).add(0.3);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = reference(s + spareM, q, k, v, mask);
        AttentionReference.assertClose(expected, kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask)
                .data(), 1e-9);
        Variable out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), mask);
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(expected, out32.data(), 1e-3);
    }

    /** Decoding token by token with the (S, z) state equals the full causal form, as does the cached (queryOffset) form. */
    @Test
    void recurrentDecodingEqualsFullCausal() {
        int b = 2, h = 2, t = 10, d = 4;
        var kernel = new CosFormerAttention(new CosFormerAttention.Options(16));
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Tensor q = AttentionReference.randn(1, 1, b, h, t, d).to(dtype);
            Tensor k = AttentionReference.randn(2, 1, b, h, t, d).to(dtype);
            Tensor v = AttentionReference.randn(3, 1, b, h, t, d).to(dtype);
            LinearAttention.State state = kernel.newState(b, h, d, d, dtype);
            RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 6, dtype == DType.F64 ? 1e-10 : 1e-4,
                    (qi, ki, vi) -> kernel.step(state, qi, ki, vi));
            assertEquals(t, state.steps());
        }
        CachedDecoding.assertCachedEqualsFull(kernel);
    }

    /** A query whose ReLU features are all 0 gets 0, not NaN (the ε floor). */
    @Test
    void allNegativeQueryGivesZero() {
        var kernel = new CosFormerAttention(new CosFormerAttention.Options(4));
        Variable q = Variable.constant(Tensor.full(-1, DType.F64, 1, 1, 2, 3));
        Variable kv = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 2, 3));
        for (double x : kernel.attend(q, kv, kv, AttentionMask.causalOnly()).data().toDoubleArray()) {
            assertEquals(0, x);
        }
    }

    @Test
    void finiteDifferenceGradients() {
        var kernel = new CosFormerAttention(new CosFormerAttention.Options(7));
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 4, 3).add(0.3),
                    AttentionReference.randn(2, 1, 2, 2, 5, 3).add(0.3), AttentionReference.randn(3, 1, 2, 2, 5, 2));
        }
    }

    @Test
    void refusesPositionsBeyondM() {
        var kernel = new CosFormerAttention(new CosFormerAttention.Options(4));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 5, 2));
        assertEquals("CosFormerAttention: position 4 is beyond maxPositions 4",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly())).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new CosFormerAttention.Options(0)).getMessage()
                .contains("maxPositions must be >= 1"));
    }
}
