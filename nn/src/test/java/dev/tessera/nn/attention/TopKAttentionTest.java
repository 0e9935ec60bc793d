package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TopKAttentionTest {

    /** Inputs rounded to integers in [−2, 2]: every score is exact, so ties at the k-th value are common. */
    private static Tensor integers(long seed, int... shape) {
        double[] x = AttentionReference.randn(seed, 1.2, shape).toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.clamp(Math.rint(x[i]), -2, 2);
        }
        return Tensor.of(x, shape);
    }

    /**
     * The reference: per row, the allowed scores q·k in double, the k-th largest t (the smallest if
     * fewer than k), weight exp(s/√D) for s ≥ t and 0 otherwise; random and tie-heavy integer inputs.
     */
    @Property(tries = 80)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 8) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 12) int k, @ForAll boolean ties, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = ties ? integers(seed, b, h, t, d) : AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor key = ties ? integers(seed + 1, b, h, s, d) : AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] qa = q.toDoubleArray(), ka = key.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> {
            double[] qi = row(qa, q.shape(), bb, hh, i);
            List<Double> allowed = new ArrayList<>();
            for (int jj = 0; jj < s; jj++) {
                if (mask.allowed(bb, i, jj, t, s)) {
                    allowed.add(dot(qi, row(ka, key.shape(), bb, hh, jj)));
                }
            }
            allowed.sort((x, y) -> Double.compare(y, x)); // descending
            double kth = allowed.get(Math.min(k, allowed.size()) - 1);
            double score = dot(qi, row(ka, key.shape(), bb, hh, j));
            return score >= kth ? Math.exp(score / Math.sqrt(d)) : 0;
        });
        Variable out = new TopKAttention(k).attend(Variable.constant(q), Variable.constant(key), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** Ties at the k-th value are all kept (more than k keys), and a row with fewer than k allowed keys keeps them all. */
    @Test
    void keepsEveryScoreEqualToTheKth() {
        Tensor scores = Tensor.of(new double[] {3, 1, 2, 2, 0, 2, /* row 2 */ 5, 4, 4, 4, 1, 9}, 1, 1, 2, 6);
        Tensor all = AttentionMask.NONE.allowedMatrix(1, 2, 6);
        assertArrayEquals(new long[] {1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1}, new TopKAttention(2).keep(scores, all).toLongArray());
        assertArrayEquals(new long[] {1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1}, new TopKAttention(3).keep(scores, all).toLongArray());
        // causal, 2 queries at positions 4 and 5: the first sees 5 keys, the second 6; k = 6 keeps every allowed key
        Tensor causal = new AttentionMask(true, null, 4).allowedMatrix(1, 2, 6);
        assertArrayEquals(new long[] {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1}, new TopKAttention(6).keep(scores, causal).toLongArray());
        // causal at positions 2 and 3, k = 1: the best allowed key is key 0 in both rows (9 is in the future)
        Tensor early = new AttentionMask(true, null, 2).allowedMatrix(1, 2, 6);
        assertArrayEquals(new long[] {1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}, new TopKAttention(1).keep(scores, early).toLongArray());
    }

    /** With k ≥ S nothing is cut: the kernel is plain softmax attention, causal or not, with document masks. */
    @Test
    void largeKIsSoftmaxAttention() {
        AttentionReference.assertSoftmaxUnderEveryMask(7, 7, (q, k, v, mask) -> new TopKAttention(7).attend(q, k, v, mask).data());
    }

    @Test
    void finiteDifferenceGradients() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 5, 6, 9);
            TopKAttention kernel = new TopKAttention(2);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                    AttentionReference.randn(2, 1, 2, 2, 6, 3), AttentionReference.randn(3, 1, 2, 2, 6, 2));
        }
    }

    /** One query, k = 2 of 5 keys: the three dropped keys and their values get exactly zero gradient. */
    @Test
    void droppedKeysGetNoGradient() {
        Variable q = Variable.of(Tensor.of(new double[] {1, 0}, 1, 1, 1, 2), true);
        Variable k = Variable.of(Tensor.of(new double[] {0.5, 1, 3, 0, -1, 2, 2, 0, 0.1, 0}, 1, 1, 5, 2), true);
        Variable v = Variable.of(AttentionReference.randn(4, 1, 1, 1, 5, 3), true);
        new TopKAttention(2).attend(q, k, v, AttentionMask.NONE).mul(Variable.constant(AttentionReference.randn(5, 1, 1, 1, 1, 3))).sum().backward();
        double[] gk = k.grad().toDoubleArray();
        double[] gv = v.grad().toDoubleArray();
        for (int j : new int[] {0, 2, 4}) { // scores 0.5, −1, 0.1 (kept: 3 and 2)
            assertArrayEquals(new double[2], Arrays.copyOfRange(gk, 2 * j, 2 * j + 2), "dk of dropped key " + j);
            assertArrayEquals(new double[3], Arrays.copyOfRange(gv, 3 * j, 3 * j + 3), "dv of dropped key " + j);
        }
        for (int j : new int[] {1, 3}) {
            assertEquals(true, Arrays.stream(Arrays.copyOfRange(gv, 3 * j, 3 * j + 3)).anyMatch(x -> x != 0), "dv of kept key " + j);
        }
    }

    /**
     * Decoding with a KV cache equals the full causal pass, token by token and after a prefill, with
     * grouped-query heads, RoPE and packed documents.
     */
    @Test
    void cachedDecodingEqualsFullPass() {
        int b = 2, t = 10;
        var c = new MultiHeadAttention.Config(8, 4, 2, 2, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6, 0, 0,
                DType.F64).withTopK(3);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(5));
        Tensor x = AttentionReference.randn(6, 1, b, t, 8);
        Tensor docs = AttentionReference.mask(2, b, t, t, 8).documentIds();
        for (Tensor ids : new Tensor[] {null, docs}) {
            Tensor full = mha.forward(Variable.constant(x), new AttentionMask(true, ids, 0)).data();
            for (int prefill : new int[] {0, 4}) {
                KvCache cache = KvCache.growing();
                List<Tensor> steps = new ArrayList<>();
                for (int pos = 0; pos < t; ) {
                    int n = pos == 0 && prefill > 0 ? prefill : 1;
                    Tensor seen = ids == null ? null : ids.narrow(1, 0, pos + n).contiguous();
                    steps.add(mha.forward(Variable.constant(x.narrow(1, pos, n)), new AttentionMask(true, seen, 0), cache).data());
                    pos += n;
                }
                AttentionReference.assertClose(full, Tensor.cat(1, steps.toArray(new Tensor[0])), 1e-12);
            }
        }
    }

    @Test
    void rejectsBadK() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TopKAttention(0));
        assertEquals("TopKAttention: k must be >= 1, got 0", e.getMessage());
        var base = MultiHeadAttention.Config.llama(8, 2, 2, 16);
        var c = assertThrows(IllegalArgumentException.class, () -> base.withKind(AttentionKind.TOPK));
        assertEquals("attention topk needs option k (options: k)", c.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> base.withTopK(-1));
        assertEquals("attention topk: option k must be >= 1, got -1", negative.getMessage());
        assertThrows(IllegalArgumentException.class, () -> base.withSlidingWindow(4).withTopK(0));
        assertEquals(4, ((TopKAttention) AttentionKind.TOPK.create(base.withTopK(4), null)).k());
        assertEquals(new KernelOptions.None(), base.withTopK(4).withKind(AttentionKind.SOFTMAX).options());
        assertEquals(new TopKAttention.Options(4), base.withTopK(4).withDtype(DType.F64).options());
    }
}
