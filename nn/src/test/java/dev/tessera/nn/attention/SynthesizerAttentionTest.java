package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SynthesizerAttentionTest {

    /** Random: weight of key j for query i in head h is exp(R[h][p_i][j]) (normalised by AttentionReference). */
    static double[] referenceRandom(Tensor v, Tensor r, AttentionMask mask, int t) {
        double[] ra = r.toDoubleArray();
        int p = r.size(1);
        return AttentionReference.attend(new int[] {v.size(0), v.size(1), t, v.size(3)}, v.toDoubleArray(), v.shape(), mask,
                (b, h, i, j) -> Math.exp(ra[(h * p + mask.queryOffset() + i) * p + j]));
    }

    /** Dense: B_i = W₂ relu(W₁ q_i + b₁) + b₂ per head in plain double loops, then exp(B_i[j]). */
    static double[] referenceDense(Tensor q, Tensor v, Tensor w1, Tensor b1, Tensor w2, Tensor b2, AttentionMask mask) {
        int d = q.size(3), f = w1.size(2), p = w2.size(2);
        double[] qa = q.toDoubleArray();
        double[] w1a = w1.toDoubleArray();
        double[] b1a = b1.toDoubleArray();
        double[] w2a = w2.toDoubleArray();
        double[] b2a = b2.toDoubleArray();
        return AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (b, h, i, j) -> {
            double[] x = AttentionReference.row(qa, q.shape(), b, h, i);
            double logit = b2a[h * p + j];
            for (int u = 0; u < f; u++) {
                double z = b1a[h * f + u];
                for (int c = 0; c < d; c++) {
                    z += x[c] * w1a[(h * d + c) * f + u];
                }
                logit += Math.max(0, z) * w2a[(h * f + u) * p + j];
            }
            return Math.exp(logit);
        });
    }

    @Property(tries = 60)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll boolean dense, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        int p = s + 1;
        Tensor q = AttentionReference.randn(seed, 1.5, b, h, t, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Tensor out;
        double[] expected;
        if (dense) {
            Tensor w1 = AttentionReference.randn(seed + 3, 1, h, d, d + 1);
            Tensor b1 = AttentionReference.randn(seed + 4, 1, h, d + 1);
            Tensor w2 = AttentionReference.randn(seed + 5, 1, h, d + 1, p);
            Tensor b2 = AttentionReference.randn(seed + 6, 1, h, p);
            out = SynthesizerAttention.attendDense(Variable.constant(q), Variable.constant(v), Variable.constant(w1),
                    Variable.constant(b1), Variable.constant(w2), Variable.constant(b2), mask).data();
            expected = referenceDense(q, v, w1, b1, w2, b2, mask);
        } else {
            Tensor r = AttentionReference.randn(seed + 3, 2, h, p, p);
            out = SynthesizerAttention.attendRandom(Variable.constant(v), Variable.constant(r), mask, t).data();
            expected = referenceRandom(v, r, mask, t);
        }
        assertEquals(DType.F64, out.dtype());
        assertArrayEquals(new int[] {b, h, t, d + 1}, out.shape());
        AttentionReference.assertClose(expected, out, 1e-10);
    }

    /** v and R (Random); q, v, W₁, b₁, W₂, b₂ (Dense) by central differences in F64, under each mask kind. */
    @Test
    void gradients() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 5);
            Tensor q = AttentionReference.randn(1, 1, 2, 2, 3, 3);
            Tensor v = AttentionReference.randn(3, 1, 2, 2, 4, 2);
            Tensor r = AttentionReference.randn(4, 1, 2, 5, 5);
            GradCheck.check(in -> SynthesizerAttention.attendRandom(in[0], in[1], mask, 3), v, r);
            Tensor w1 = AttentionReference.randn(5, 1, 2, 3, 4);
            Tensor b1 = AttentionReference.randn(6, 1, 2, 4);
            Tensor w2 = AttentionReference.randn(7, 1, 2, 4, 5);
            Tensor b2 = AttentionReference.randn(8, 1, 2, 5);
            GradCheck.check(in -> SynthesizerAttention.attendDense(in[0], in[1], in[2], in[3], in[4], in[5], mask), q, v, w1, b1, w2, b2);
        }
    }

    /** Decoding a token at a time (the KV-cache path: queries at offset S − T) gives the full causal rows. */
    @Test
    void cachedDecodingEqualsFull() {
        for (SynthesizerAttention.Variant variant : SynthesizerAttention.Variant.values()) {
            SynthesizerAttention kernel = new SynthesizerAttention(variant, 2, 4, 8, new Generator(30));
            if (variant == SynthesizerAttention.Variant.RANDOM) { // larger than the init so rows differ visibly
                kernel.loadStateDict(Map.of("random_logits", AttentionReference.randn(20, 1, 2, 8, 8).to(DType.F32)), true);
            }
            CachedDecoding.assertCachedEqualsFull(kernel);
        }
    }

    /** R is the trainable, checkpointed parameter random_logits (H × ℓ × ℓ, F32, N(0, 0.02²)); Dense owns its four tensors. */
    @Test
    void parametersAreNamedTrainedAndInitialised() {
        SynthesizerAttention kernel = new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, 2, 3, 40, new Generator(9));
        assertEquals(Set.of("random_logits"), kernel.namedParameters().keySet());
        Tensor r = kernel.namedParameters().get("random_logits").data();
        assertArrayEquals(new int[] {2, 40, 40}, r.shape());
        assertEquals(DType.F32, r.dtype());
        double std = Math.sqrt(r.to(DType.F64).square().mean(false).item());
        assertTrue(Math.abs(std - SynthesizerAttention.RANDOM_INIT_STD) < 0.002, "init std " + std);
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 2, 4, 3).to(DType.F32));
        kernel.attend(q, q, v, AttentionMask.causalOnly()).square().sum().backward();
        Tensor grad = kernel.namedParameters().get("random_logits").grad();
        assertNotEquals(0.0, grad.getDouble(1, 3, 1), "an allowed (query, key) pair gets a gradient");
        assertEquals(0.0, grad.getDouble(1, 1, 3), "a future key gets none under the causal mask");
        assertEquals(0.0, grad.getDouble(0, 4, 0), "no query sits at position 4");
        SynthesizerAttention dense = new SynthesizerAttention(SynthesizerAttention.Variant.DENSE, 2, 3, 5, new Generator(9));
        assertEquals(Set.of("dense_w1", "dense_b1", "dense_w2", "dense_b2"), dense.namedParameters().keySet());
        assertArrayEquals(new int[] {2, 3, 5}, dense.namedParameters().get("dense_w2").data().shape());
    }

    @Test
    void rejectsBadArguments() {
        Generator g = new Generator(1);
        assertThrows(IllegalArgumentException.class, () -> new SynthesizerAttention(null, 2, 4, 4, g));
        assertThrows(IllegalArgumentException.class, () -> new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, 2, 4, 0, g));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4).to(DType.F32));
        var random = new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, 2, 4, 2, g);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> random.attend(q, q, q, AttentionMask.NONE));
        assertTrue(e.getMessage().contains("maxPositions"), e.getMessage());
        var threeHeads = new SynthesizerAttention(SynthesizerAttention.Variant.DENSE, 3, 4, 8, g);
        assertThrows(IllegalArgumentException.class, () -> threeHeads.attend(q, q, q, AttentionMask.NONE));
        var long3 = new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, 2, 4, 3, g);
        assertThrows(IllegalArgumentException.class, () -> long3.attend(q, q, q, new AttentionMask(true, null, 1)));
    }
}
