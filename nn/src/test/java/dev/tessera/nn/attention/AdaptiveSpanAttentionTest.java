package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Regularizer;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AdaptiveSpanAttentionTest {

    /** Per-head spans: below 0 and above maxSpan (both clamped) and inside, non-integer so no kink sits on a distance. */
    private static double[] spans(int h, int seed) {
        double[] z = new double[h];
        for (int i = 0; i < h; i++) {
            z[i] = i == 0 ? -0.7 : i == 1 ? 9.5 : 0.3 + (seed + 5 * i) % 7 * 0.9;
        }
        return z;
    }

    /** m(x) = clamp((R + z − x)/R, 0, 1) with z clamped to [0, maxSpan], in plain double. */
    private static double m(double z, int maxSpan, double ramp, double x) {
        double zc = Math.min(Math.max(z, 0), maxSpan);
        return Math.min(Math.max((ramp + zc - x) / ramp, 0), 1);
    }

    /** weight = m(|S − T + t − s|) · exp(q·k/√D), renormalised by the reference over allowed keys. */
    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 4) int ramp, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        int maxSpan = 6;
        double[] z = spans(h, seed);
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double r = ramp * 0.75;
        double[] expected = AttentionReference.attendRows(q, k, v, mask,
                (hh, i, j, qi, kj) -> m(z[hh], maxSpan, r, Math.abs(s - t + i - j)) * Math.exp(dot(qi, kj) / Math.sqrt(d)));
        Variable out = AdaptiveSpanAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(Tensor.of(z, h, 1, 1)), maxSpan, r, mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-9);
    }

    /** q, k, v and z by central differences; head 0 is below 0 and head 1 above maxSpan (zero gradient there). */
    @Test
    void gradientsIncludingSpan() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 7);
            GradCheck.check(in -> AdaptiveSpanAttention.attend(in[0], in[1], in[2], in[3], 6, 1.5, mask),
                    AttentionReference.randn(1, 1, 2, 3, 4, 3), AttentionReference.randn(2, 1, 2, 3, 5, 3),
                    AttentionReference.randn(3, 1, 2, 3, 5, 2), Tensor.of(new double[] {-0.7, 9.5, 1.3}, 3, 1, 1));
        }
    }

    /** A span covering every distance leaves the mask at 1: plain softmax attention. */
    @Test
    void fullSpanIsSoftmaxAttention() {
        Variable span = Variable.constant(Tensor.full(6.0, DType.F64, 2, 1, 1));
        AttentionReference.assertSoftmaxUnderEveryMask(5, 7, (q, k, v, mask) -> AdaptiveSpanAttention.attend(q, k, v, span, 6, 32, mask).data());
    }

    /** z = 0 with a ramp under 1: only the query's own key is left, so out_i = v_i. */
    @Test
    void zeroSpanAttendsToItself() {
        Variable q = Variable.constant(AttentionReference.randn(7, 1, 1, 2, 4, 3));
        Variable k = Variable.constant(AttentionReference.randn(8, 1, 1, 2, 4, 3));
        Variable v = Variable.constant(AttentionReference.randn(9, 1, 1, 2, 4, 3));
        Tensor out = AdaptiveSpanAttention.attend(q, k, v, Variable.constant(Tensor.full(-2.0, DType.F64, 2, 1, 1)), 4, 0.5,
                AttentionMask.causalOnly()).data();
        AttentionReference.assertClose(v.data(), out, 1e-12);
    }

    @Test
    void spanIsAPerHeadParameterWithAnL1Penalty() {
        AdaptiveSpanAttention kernel = new AdaptiveSpanAttention(3, 8);
        assertEquals(Set.of("span"), kernel.namedParameters().keySet());
        Tensor z = kernel.namedParameters().get("span").data();
        assertArrayEquals(new int[] {3, 1, 1}, z.shape());
        assertEquals(DType.F32, z.dtype());
        assertArrayEquals(new double[] {4, 4, 4}, kernel.spans(), 0);
        assertEquals(4.0, kernel.spanPenalty().data().toDoubleArray()[0], 1e-6);
        kernel.spanPenalty().backward();
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3}, kernel.namedParameters().get("span").grad().toDoubleArray(), 1e-6);
        kernel.loadStateDict(java.util.Map.of("span", Tensor.of(new double[] {-1, 3, 20}, 3, 1, 1)), true);
        assertArrayEquals(new double[] {0, 3, 8}, kernel.spans(), 0);
        assertEquals(11.0 / 3, kernel.spanPenalty().data().toDoubleArray()[0], 1e-6);
    }

    /** At T = 12 > z + 1 = 5 distances reach the ramp (R = 32), so every head's span gets a gradient from the output. */
    @Test
    void spanGetsAGradientFromTheOutput() {
        AdaptiveSpanAttention kernel = new AdaptiveSpanAttention(3, 8);
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 12, 4).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 1, 3, 12, 4).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 3, 12, 4).to(DType.F32));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        for (double g : kernel.namedParameters().get("span").grad().toDoubleArray()) {
            assertNotEquals(0.0, g, "every head's span gets a gradient");
        }
    }

    /**
     * Decoding one token at a time against a growing KV cache, and a block of queries against all keys
     * (queryOffset = 4), give the full causal sequence's rows; the ramp is active so the mask matters.
     */
    @Test
    void cachedDecodingEqualsFull() {
        int t = 7;
        AdaptiveSpanAttention kernel = new AdaptiveSpanAttention(2, 4);
        kernel.loadStateDict(java.util.Map.of("span", Tensor.of(new double[] {0.5, 2.5}, 2, 1, 1)), true);
        Tensor q = AttentionReference.randn(7, 1, 2, 2, t, 4);
        Tensor k = AttentionReference.randn(8, 1, 2, 2, t, 4);
        Tensor v = AttentionReference.randn(9, 1, 2, 2, t, 3);
        Tensor[] cache = new Tensor[2]; // k, v so far (B, H, p, D)
        RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 4, 1e-12, (qi, ki, vi) -> {
            cache[0] = cache[0] == null ? ki : Tensor.cat(2, cache[0], ki);
            cache[1] = cache[1] == null ? vi : Tensor.cat(2, cache[1], vi);
            int p = cache[0].size(2) - 1;
            return kernel.attend(Variable.constant(qi), Variable.constant(cache[0]), Variable.constant(cache[1]),
                    new AttentionMask(true, null, p)).data();
        });
        Variable full = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.causalOnly());
        Variable soft = AttentionReference.naiveSoftmax(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                AttentionMask.causalOnly());
        double diff = 0;
        for (double x : full.sub(soft).abs().data().toDoubleArray()) {
            diff = Math.max(diff, x);
        }
        assertTrue(diff > 1e-2, "the span mask must change the output here, max diff " + diff);
    }

    /** The kernel adds λ · penalty to the loss by itself: {@link Regularizer#total} finds it anywhere in a module tree. */
    @Test
    void itsPenaltyTimesLambdaIsARegularizer() {
        var a = new AdaptiveSpanAttention(2, 8, new AdaptiveSpanAttention.Options(32, 0.5)); // spans 4, 4
        var b = new AdaptiveSpanAttention(2, 6, new AdaptiveSpanAttention.Options(32, 2)); // spans 3, 3
        assertEquals(0.5 * 4, a.regularization().item(), 1e-6);
        Module layer = new Module() {
            { child("kernel", b); }
        };
        Module model = new Module() {
            { child("first", a); child("layer", layer); }
        };
        assertEquals(0.5 * 4 + 2 * 3, Regularizer.total(model).item(), 1e-6);
        assertNull(Regularizer.total(new Module() { }), "no regularizer, no term");
        var e = assertThrows(IllegalArgumentException.class, () -> new AdaptiveSpanAttention.Options(32, -1));
        assertEquals("attention adaptive_span: option span_loss must be >= 0, got -1.0", e.getMessage());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveSpanAttention(0, 4));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveSpanAttention(2, 0));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        Variable k5 = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveSpanAttention(2, 4).attend(q, k5, k5, AttentionMask.NONE));
        assertThrows(IllegalArgumentException.class, () -> new AdaptiveSpanAttention(3, 4).attend(q, q, q, AttentionMask.NONE));
        Variable z = Variable.constant(Tensor.full(1.0, DType.F64, 2, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> AdaptiveSpanAttention.attend(q, q, q, z, 4, 0, AttentionMask.NONE));
    }
}
