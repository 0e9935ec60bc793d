package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** B26 neighborhood attention: reference, gradients, exactly k keys, cached decoding, options. */
class NeighborhoodAttentionTest {

    /**
     * The window written independently of the kernel: non-causal, the run of min(k, S) consecutive
     * keys that contains p and whose centre is nearest to p (ties cannot occur for odd k); causal, the
     * keys p − k + 1 … p that exist.
     */
    static boolean inWindow(int p, int j, int s, int k, boolean causal) {
        if (causal) {
            return j <= p && j > p - k;
        }
        int width = Math.min(k, s);
        int best = -1;
        for (int st = 0; st + width <= s; st++) {
            if (st <= p && p < st + width && (best < 0 || Math.abs(2 * st + width - 1 - 2 * p) < Math.abs(2 * best + width - 1 - 2 * p))) {
                best = st;
            }
        }
        return j >= best && j < best + width;
    }

    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 0, max = 3) int half, @ForAll @IntRange(min = 1, max = 5) int d,
            @ForAll @IntRange(min = 0, max = 3) int maskKind, @ForAll @IntRange(min = 1, max = 4) int block,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int k = 2 * half + 1;
        int s = t + ((maskKind & 1) != 0 ? extra : 0); // cached keys only with the causal mask (queries are the last T)
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor kk = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor bias = AttentionReference.randn(seed + 3, 1, h, 2 * k - 1);
        double[] bt = bias.toDoubleArray();
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = AttentionReference.attendRows(q, kk, v, mask, (hh, i, j, qi, kj) -> {
            int p = mask.queryOffset() + i;
            return inWindow(p, j, s, k, mask.causal()) ? Math.exp(dot(qi, kj) / Math.sqrt(d) + bt[hh * (2 * k - 1) + j - p + k - 1]) : 0;
        });
        Variable out = NeighborhoodAttention.attend(Variable.constant(q), Variable.constant(kk), Variable.constant(v),
                Variable.constant(bias), k, mask, block);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** The point of the clamp: every query of a long enough unmasked sequence sees exactly k keys, border ones included. */
    @Test
    void everyQuerySeesExactlyKKeys() {
        for (int p = 0; p < 10; p++) {
            int seen = 0;
            for (int j = 0; j < 10; j++) {
                seen += NeighborhoodAttention.windowStart(p, 10, 5, false) <= j && j < NeighborhoodAttention.windowEnd(p, 10, 5, false) ? 1 : 0;
            }
            assertEquals(5, seen, "query " + p);
        }
        assertEquals(0, NeighborhoodAttention.windowStart(1, 10, 5, false), "shifted right at the start");
        assertEquals(5, NeighborhoodAttention.windowStart(9, 10, 5, false), "shifted left at the end");
        assertEquals(2, NeighborhoodAttention.windowStart(4, 10, 5, false), "centred inside");
        assertEquals(2, NeighborhoodAttention.windowStart(6, 10, 5, true), "causal: the k previous positions");
    }

    /** q, k, v and the bias table by central differences in F64, two row blocks: unmasked (clamped window) and causal + documents. */
    @Test
    void gradients() {
        for (int kind : new int[] {0, 3}) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 5, 5, 7);
            GradCheck.check(in -> NeighborhoodAttention.attend(in[0], in[1], in[2], in[3], 3, mask, 3), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                    AttentionReference.randn(2, 1, 2, 2, 5, 3), AttentionReference.randn(3, 1, 2, 2, 5, 2),
                    AttentionReference.randn(4, 1, 2, 5));
        }
    }

    /** Causal: one query at a time over the keys so far (queryOffset = S − 1) gives the full forward's rows, with and without documents. */
    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new NeighborhoodAttention(new NeighborhoodAttention.Options(3), 2, new Generator(5)));
    }

    @Test
    void biasIsAPerHeadTableOf2kMinus1() {
        NeighborhoodAttention kernel = new NeighborhoodAttention(new NeighborhoodAttention.Options(5), 3, new Generator(1));
        assertEquals(Set.of("rpb"), kernel.namedParameters().keySet());
        Variable rpb = kernel.namedParameters().get("rpb");
        assertArrayEquals(new int[] {3, 9}, rpb.shape());
        assertEquals(DType.F32, rpb.dtype());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 7, 4).to(DType.F32));
        kernel.attend(q, q, q, AttentionMask.NONE).square().sum().backward();
        for (double g : rpb.grad().toDoubleArray()) {
            assertEquals(true, g != 0, "with T = 7 > k every one of the 2k − 1 offsets is used");
        }
    }

    @Test
    void badOptionsAreOneLineErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> new NeighborhoodAttention.Options(4));
        assertEquals("attention neighborhood: option kernel_size must be an odd integer >= 1, got 4", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NeighborhoodAttention.Options(0));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        var kernel = new NeighborhoodAttention((NeighborhoodAttention.Options) AttentionKind.NEIGHBORHOOD.defaultOptions(), 3,
                new Generator(1));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, q, q, AttentionMask.NONE));
        assertEquals(7, kernel.options().kernelSize(), "NAT's default");
        var bound = AttentionKind.NEIGHBORHOOD.options(java.util.Map.of("kernel_size", "3"));
        assertEquals(new NeighborhoodAttention.Options(3), bound);
    }
}
