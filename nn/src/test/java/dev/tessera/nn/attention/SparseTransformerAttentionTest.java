package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.SparseTransformerAttention.FixedOptions;
import dev.tessera.nn.attention.SparseTransformerAttention.StridedOptions;
import dev.tessera.nn.attention.SparseTransformerAttention.Pattern;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.HashSet;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SparseTransformerAttentionTest {

    /** The paper's sets A⁽¹⁾ ∪ A⁽²⁾ for query i, enumerated (both directions: the mask adds causality). */
    static Set<Integer> paperSet(Pattern pattern, int l, int c, int i, int keys) {
        Set<Integer> a = new HashSet<>();
        if (pattern == Pattern.STRIDED) {
            for (int d = -l; d <= l; d++) {
                a.add(i + d); // A⁽¹⁾: the band, t = i − l … i (and its mirror)
            }
            for (int j = i % l; j < keys; j += l) {
                a.add(j); // A⁽²⁾: every l-th position counted from i
            }
        } else {
            int start = i / l * l;
            for (int j = start; j < start + l; j++) {
                a.add(j); // A⁽¹⁾: i's block
            }
            for (int block = 0; block < keys; block += l) {
                for (int j = block + l - c; j < block + l; j++) {
                    a.add(j); // A⁽²⁾: the last c positions of every block
                }
            }
        }
        return a;
    }

    static SparseTransformerAttention kernel(Pattern pattern, int l, int c) {
        return pattern == Pattern.STRIDED ? new SparseTransformerAttention(new StridedOptions(l))
                : new SparseTransformerAttention(new FixedOptions(l, c));
    }

    @Property(tries = 60)
    void matchesReference(@ForAll boolean fixed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 12) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 5) int l, @ForAll @IntRange(min = 1, max = 5) int c,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int summary = Math.min(c, l);
        int s = t + extra;
        Pattern pattern = fixed ? Pattern.FIXED : Pattern.STRIDED;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = SparsePatternReference.zeroNaN(SparsePatternReference.attend(q, k, v, mask,
                (hh, i, j, keys) -> paperSet(pattern, l, summary, i, keys).contains(j) ? 1 : 0));
        Variable out = kernel(pattern, l, summary).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** The causal patterns of the paper's Figure 3 for l = 3 (fixed: c = 1), as matrices. */
    @Test
    void causalPatternsAsInTheFigure() {
        String strided = """
                1.....
                11....
                111...
                1111..
                .1111.
                ..1111
                """;
        String fixed = """
                1.....
                11....
                111...
                ..11..
                ..111.
                ..1111
                """;
        assertEquals(strided, picture(kernel(Pattern.STRIDED, 3, 1), 6));
        assertEquals(fixed, picture(kernel(Pattern.FIXED, 3, 1), 6));
        // the stride reaches back beyond the band: position 7 sees 4..7 and 1
        assertEquals(Set.of(1, 4, 5, 6, 7), seen(kernel(Pattern.STRIDED, 3, 1), 7));
        // fixed, c = 2: position 7 sees its block 6..7 and the summaries 1, 2 and 4, 5
        assertEquals(Set.of(1, 2, 4, 5, 6, 7), seen(kernel(Pattern.FIXED, 3, 2), 7));
    }

    private static String picture(SparseTransformerAttention a, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sb.append(j <= i && a.sees(i, j) ? '1' : '.');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static Set<Integer> seen(SparseTransformerAttention a, int i) {
        Set<Integer> out = new HashSet<>();
        for (int j = 0; j <= i; j++) {
            if (a.sees(i, j)) {
                out.add(j);
            }
        }
        return out;
    }

    @Test
    void finiteDifferenceGradients() {
        for (Pattern pattern : Pattern.values()) {
            SparsePatternReference.gradCheck(kernel(pattern, 2, 1), 2, 5, 6, 0, 1, 2, 3);
        }
    }

    @Test
    void cachedDecodingEqualsFullPass() {
        for (Pattern pattern : Pattern.values()) {
            CachedDecoding.assertCachedEqualsFull(kernel(pattern, 2, 1));
        }
    }

    /** With l ≥ S every key is in the band (strided) or the query's block (fixed): plain softmax attention. */
    @Test
    void wideStrideIsSoftmaxAttention() {
        for (Pattern pattern : Pattern.values()) {
            var kernel = kernel(pattern, 7, 1);
            AttentionReference.assertSoftmaxUnderEveryMask(7, 7, (q, k, v, mask) -> kernel.attend(q, k, v, mask).data());
        }
    }

    /** GPT-3: even layers dense, odd layers a band of W keys; by kind, the layer index picks the kernel. */
    @Test
    void alternationIsPerLayer() {
        var c = MultiHeadAttention.Config.llama(8, 2, 2, 16).withKind(AttentionKind.ALTERNATING);
        assertInstanceOf(SoftmaxAttention.class, AttentionKind.ALTERNATING.create(c, 0, null));
        assertInstanceOf(SoftmaxAttention.class, AttentionKind.ALTERNATING.create(c, 2, null));
        assertEquals(8, assertInstanceOf(SlidingWindowAttention.class, AttentionKind.ALTERNATING.create(c, 3, null)).window());
        var w5 = c.withAttention(AttentionKind.ALTERNATING, AttentionKind.ALTERNATING.options(java.util.Map.of("window", "5")));
        assertEquals(5, ((SlidingWindowAttention) AttentionKind.ALTERNATING.create(w5, 1, null)).window());
        AttentionKernel dense = new SoftmaxAttention();
        assertSame(dense, SparseTransformerAttention.alternating(4, 5, dense));
        var e = assertThrows(IllegalArgumentException.class, () -> AttentionKind.ALTERNATING.create(c, null));
        assertEquals("AttentionKind: alternating differs per layer; create it with the layer index", e.getMessage());
        var fixed = (SparseTransformerAttention) AttentionKind.FIXED.create(c.withKind(AttentionKind.FIXED), 1, null);
        assertEquals(Pattern.FIXED, fixed.pattern());
        assertEquals(8, fixed.stride());
        assertEquals(2, fixed.summary());
        assertEquals(8, ((SparseTransformerAttention) AttentionKind.STRIDED.create(c.withKind(AttentionKind.STRIDED), null)).stride());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertEquals("attention strided: option stride must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new StridedOptions(0)).getMessage());
        assertEquals("attention fixed: option summary must be in [1, stride = 4], got 5",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.FIXED.options(java.util.Map.of("stride", 4, "summary", 5)))
                        .getMessage());
        assertEquals("attention strided: unknown option 'summary' (options: stride)",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.STRIDED.options(java.util.Map.of("summary", 1))).getMessage());
        assertEquals("attention alternating: option window must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.ALTERNATING.options(java.util.Map.of("window", 0))).getMessage());
        assertEquals("SparseTransformerAttention.alternating: need layer >= 0, window >= 1 and a dense kernel, got layer=-1 window=3",
                assertThrows(IllegalArgumentException.class, () -> SparseTransformerAttention.alternating(-1, 3, new SoftmaxAttention()))
                        .getMessage());
    }
}
