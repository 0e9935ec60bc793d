package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SlidingWindowAttentionTest {

    /**
     * exp(q·k/√D) weights over keys with |p − j| &lt; W (and the mask), in plain double loops, for
     * every block size (one block, several, one row each) and window (1, inside, beyond S).
     */
    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 14) int window, @ForAll @IntRange(min = 1, max = 5) int block,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        // queries at the last T positions, causal or not, so each one's own key (its document's) is in its window
        AttentionMask m = AttentionReference.mask(maskKind, b, t, s, seed);
        AttentionMask mask = new AttentionMask(m.causal(), m.documentIds(), s - t);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> {
            int p = mask.queryOffset() + i;
            return Math.abs(p - j) < window ? Math.exp(dot(row(qa, q.shape(), bb, hh, i), row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d)) : 0;
        });
        Variable out = new SlidingWindowAttention(window, block).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** The Mistral convention: a causal query sees exactly min(W, p + 1) keys, itself and the W − 1 before it. */
    @Test
    void causalWindowCountsTheQueryItself() {
        SlidingWindowAttention kernel = new SlidingWindowAttention(3, 2);
        Tensor allowed = kernel.allowed(AttentionMask.causalOnly(), 1, 0, 6, 6, 0, 6, 6);
        long[] expected = {
            1, 0, 0, 0, 0, 0,
            1, 1, 0, 0, 0, 0,
            1, 1, 1, 0, 0, 0,
            0, 1, 1, 1, 0, 0,
            0, 0, 1, 1, 1, 0,
            0, 0, 0, 1, 1, 1};
        assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(allowed.toLongArray()));
        Tensor both = kernel.allowed(AttentionMask.NONE, 1, 0, 4, 4, 0, 4, 4);
        assertEquals("[1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]", java.util.Arrays.toString(both.toLongArray()));
    }

    /** With W ≥ S nothing is cut: the kernel is plain softmax attention, causal or not, with document masks. */
    @Test
    void wideWindowIsSoftmaxAttention() {
        AttentionReference.assertSoftmaxUnderEveryMask(7, 7, (q, k, v, mask) -> new SlidingWindowAttention(7, 3).attend(q, k, v, mask).data());
    }

    @Test
    void finiteDifferenceGradients() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 5, 6, 9);
            for (int block : new int[] {2, 64}) {
                SlidingWindowAttention kernel = new SlidingWindowAttention(2, block);
                GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                        AttentionReference.randn(2, 1, 2, 2, 6, 3), AttentionReference.randn(3, 1, 2, 2, 6, 2));
            }
        }
    }

    /**
     * Decoding with a sliding-window cache (only the last W − 1 keys kept) equals the full causal
     * pass, token by token and after a prefill longer than W, with grouped-query heads, RoPE and
     * packed documents; the cache never holds more than W − 1 positions.
     */
    @Test
    void windowedCacheDecodingEqualsFullPass() {
        int b = 2, t = 11, w = 3;
        var c = new MultiHeadAttention.Config(8, 4, 2, 2, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6, 0, 0,
                DType.F64).withSlidingWindow(w);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(5));
        Tensor x = AttentionReference.randn(6, 1, b, t, 8);
        Tensor docs = AttentionReference.mask(2, b, t, t, 8).documentIds();
        for (Tensor ids : new Tensor[] {null, docs}) {
            Tensor full = mha.forward(Variable.constant(x), new AttentionMask(true, ids, 0)).data();
            for (int prefill : new int[] {0, 5}) {
                KvCache cache = KvCache.slidingWindow(w);
                List<Tensor> steps = new ArrayList<>();
                for (int pos = 0; pos < t; ) {
                    int n = pos == 0 && prefill > 0 ? prefill : 1;
                    // the caller passes the ids of every position so far; the module keeps the columns of the kept keys
                    Tensor seen = ids == null ? null : ids.narrow(1, 0, pos + n).contiguous();
                    steps.add(mha.forward(Variable.constant(x.narrow(1, pos, n)), new AttentionMask(true, seen, 0), cache).data());
                    pos += n;
                    assertEquals(pos, cache.length());
                    assertTrue(cache.stored() <= w - 1, "cache holds " + cache.stored());
                }
                AttentionReference.assertClose(full, Tensor.cat(1, steps.toArray(new Tensor[0])), 1e-12);
            }
        }
    }

    @Test
    void windowOneCachesNothing() {
        KvCache cache = KvCache.slidingWindow(1);
        Variable k = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 3, 2));
        assertEquals(3, cache.append(k, k)[0].size(2));
        assertEquals(0, cache.stored());
        assertEquals(1, cache.append(k.narrow(2, 0, 1), k.narrow(2, 0, 1))[0].size(2));
        assertEquals(4, cache.length());
    }

    @Test
    void rejectsBadWindows() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SlidingWindowAttention(0));
        assertEquals("SlidingWindowAttention: window and block must be >= 1, got window=0 block=64", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KvCache.slidingWindow(0));
        var base = MultiHeadAttention.Config.llama(8, 2, 2, 16);
        var c = assertThrows(IllegalArgumentException.class, () -> base.withKind(AttentionKind.SLIDING_WINDOW));
        assertEquals("attention sliding_window needs option window (options: window)", c.getMessage());
        var negative = assertThrows(IllegalArgumentException.class, () -> base.withSlidingWindow(-2));
        assertEquals("attention sliding_window: option window must be >= 1, got -2", negative.getMessage());
        var foreign = assertThrows(IllegalArgumentException.class, () -> base.withAttention(AttentionKind.SOFTMAX,
                new SlidingWindowAttention.Options(3)));
        assertEquals("MultiHeadAttention.Config: attention softmax takes None options, got Options[window=3]", foreign.getMessage());
        assertEquals(4, ((SlidingWindowAttention) AttentionKind.SLIDING_WINDOW.create(base.withSlidingWindow(4), null)).window());
        assertEquals(0, base.withSlidingWindow(4).withKind(AttentionKind.SOFTMAX).window());
    }
}
