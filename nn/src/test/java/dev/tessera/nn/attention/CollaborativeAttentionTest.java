package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

class CollaborativeAttentionTest {

    /** score_h(t, j) = Σ_{g, c} q_g,t[c] m_h[g·D + c] k_g,j[c] / √D over the concatenated heads, in plain double loops. */
    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor mixing = AttentionReference.randn(seed + 3, 1, h, h * d);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), m = mixing.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> {
            double score = 0;
            for (int g = 0; g < h; g++) {
                double[] qi = AttentionReference.row(qa, q.shape(), bb, g, i);
                double[] kj = AttentionReference.row(ka, k.shape(), bb, g, j);
                for (int c = 0; c < d; c++) {
                    score += qi[c] * m[hh * h * d + g * d + c] * kj[c];
                }
            }
            return Math.exp(score / Math.sqrt(d));
        });
        Variable out = CollaborativeAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(mixing), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** q, k, v and the mixing matrix by central differences, under every mask kind. */
    @Test
    void gradientsIncludingMixing() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> CollaborativeAttention.attend(in[0], in[1], in[2], in[3], mask),
                    AttentionReference.randn(1, 1, 2, 2, 3, 2), AttentionReference.randn(2, 1, 2, 2, 4, 2),
                    AttentionReference.randn(3, 1, 2, 2, 4, 2), AttentionReference.randn(4, 1, 2, 4));
        }
    }

    /** Block-diagonal mixing (the init) is standard multi-head attention; every entry of mixing is trainable. */
    @Test
    void startsAsStandardHeads() {
        CollaborativeAttention kernel = new CollaborativeAttention(2, 4);
        assertEquals(Set.of("mixing"), kernel.namedParameters().keySet());
        Tensor m = kernel.namedParameters().get("mixing").data();
        assertArrayEquals(new int[] {2, 8}, m.shape());
        assertArrayEquals(new double[] {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, m.toDoubleArray());
        AttentionReference.assertSoftmaxUnderEveryMask(3, 5, (q, k, v, mask) -> kernel.attend(q, k, v, mask).data());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 4).to(DType.F32));
        kernel.attend(q, q, q, AttentionMask.causalOnly()).square().sum().backward();
        assertNotEquals(0.0, kernel.namedParameters().get("mixing").grad().getDouble(0, 5), "an off-block entry gets a gradient");
    }

    @Test
    void cachedDecodingEqualsFull() {
        CollaborativeAttention kernel = new CollaborativeAttention(2, 4);
        kernel.loadStateDict(Map.of("mixing", AttentionReference.randn(6, 1, 2, 8).to(DType.F32)), true);
        CachedDecoding.assertCachedEqualsFull(kernel);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new CollaborativeAttention(0, 4));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> new CollaborativeAttention(2, 3).attend(q, q, q, AttentionMask.NONE));
        var e = assertThrows(IllegalArgumentException.class,
                () -> CollaborativeAttention.attend(q, q, q, Variable.constant(Tensor.zeros(DType.F64, 2, 4)), AttentionMask.NONE));
        assertEquals("CollaborativeAttention: mixing must be (2, 8), got [2, 4]", e.getMessage());
    }
}
