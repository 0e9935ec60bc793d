package dev.tessera.nn.position;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.AttentionReference;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ALiBiAttentionTest {

    @Test
    void slopesFollowTheReferenceGetSlopes() {
        assertArrayEquals(new double[] {0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125, 0.00390625},
                ALiBiAttention.slopes(8), 1e-15);
        // get_slopes(6) = get_slopes_power_of_2(4) + get_slopes_power_of_2(8)[0::2][:2]
        assertArrayEquals(new double[] {0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125}, ALiBiAttention.slopes(6), 1e-15);
        double[] s12 = ALiBiAttention.slopes(12);
        for (int h = 0; h < 8; h++) {
            org.junit.jupiter.api.Assertions.assertEquals(Math.pow(2, -(h + 1)), s12[h], 1e-15);
        }
        assertArrayEquals(new double[] {Math.pow(2, -0.5), Math.pow(2, -1.5), Math.pow(2, -2.5), Math.pow(2, -3.5)},
                java.util.Arrays.copyOfRange(s12, 8, 12), 1e-15);
        assertArrayEquals(new double[] {Math.pow(2, -8)}, ALiBiAttention.slopes(1), 1e-15);
    }

    /** exp(q·k/√D − m_h·|i − j|), i = queryOffset + t, over allowed keys. */
    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 5) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] m = ALiBiAttention.slopes(h);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> Math.exp(
                dot(row(qa, q.shape(), bb, hh, i), row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d)
                        - m[hh] * Math.abs(mask.queryOffset() + i - j)));
        Variable out = new ALiBiAttention(h).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        AttentionReference.assertClose(expected, out.data(), 1e-9);
    }

    /** Decoding the last queries against the whole cache, with queryOffset = S − T', equals the full pass's rows. */
    @Test
    void cachedDecodingEqualsFull() {
        int b = 2, h = 4, s = 9, d = 3;
        ALiBiAttention kernel = new ALiBiAttention(h);
        Variable q = Variable.constant(AttentionReference.randn(1, 1, b, h, s, d));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, b, h, s, d));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, b, h, s, d));
        Tensor full = kernel.attend(q, k, v, AttentionMask.causalOnly()).data();
        for (int pos = 0; pos < s; pos++) {
            // the cache holds keys 0..pos; query pos alone
            Variable out = kernel.attend(q.narrow(2, pos, 1), k.narrow(2, 0, pos + 1), v.narrow(2, 0, pos + 1),
                    new AttentionMask(true, null, pos));
            AttentionReference.assertClose(full.narrow(2, pos, 1).contiguous(), out.data(), 1e-12);
        }
        // a chunk of 3 queries after a 6-token prefix
        Variable chunk = kernel.attend(q.narrow(2, 6, 3), k, v, new AttentionMask(true, null, 6));
        AttentionReference.assertClose(full.narrow(2, 6, 3).contiguous(), chunk.data(), 1e-12);
    }

    @Test
    void gradients() {
        ALiBiAttention kernel = new ALiBiAttention(3);
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 5, 11);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 3, 3, 2),
                    AttentionReference.randn(2, 1, 2, 3, 5, 2), AttentionReference.randn(3, 1, 2, 3, 5, 2));
        }
    }

    @Test
    void rejectsWrongHeadCount() {
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> new ALiBiAttention(4).attend(x, x, x, AttentionMask.causalOnly()));
        assertThrows(IllegalArgumentException.class, () -> new ALiBiAttention(0));
    }
}
