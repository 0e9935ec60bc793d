package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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

class GaussianKeysAttentionTest {

    /** Identity plus N(0, 0.3²) maps, (H, R, D, D). */
    private static Tensor keyMaps(long seed, int h, int r, int d) {
        return Tensor.eye(d, DType.F64).reshape(1, 1, d, d).expand(h, r, d, d).add(AttentionReference.randn(seed, 0.3, h, r, d, d));
    }

    /** w_ij = Σ_r π_hr exp(−‖q_i − k_j·A_hr‖² / 2√D), the whole distance (‖q‖² included), in plain double loops. */
    @Property(tries = 40)
    void matchesTheMixtureReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 3) int r, @ForAll @IntRange(min = 1, max = 5) int t,
            @ForAll @IntRange(min = 0, max = 3) int extra, @ForAll @IntRange(min = 1, max = 4) int d,
            @ForAll @IntRange(min = 0, max = 3) int maskKind, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 0.7, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 0.7, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor maps = keyMaps(seed + 3, h, r, d);
        Tensor logits = AttentionReference.randn(seed + 4, 1, h, r);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] a = maps.contiguous().toDoubleArray();
        double[] w = logits.toDoubleArray();
        double[] expected = AttentionReference.attendRows(q, k, v, mask, (hh, i, j, qi, kj) -> {
            double z = 0;
            for (int c = 0; c < r; c++) {
                z += Math.exp(w[hh * r + c]);
            }
            double sum = 0;
            for (int c = 0; c < r; c++) {
                double dist = 0;
                for (int e = 0; e < d; e++) {
                    double kr = 0; // (k_j · A_hc)_e
                    for (int f = 0; f < d; f++) {
                        kr += kj[f] * a[((hh * r + c) * d + f) * d + e];
                    }
                    dist += (qi[e] - kr) * (qi[e] - kr);
                }
                sum += Math.exp(w[hh * r + c]) / z * Math.exp(-dist / (2 * Math.sqrt(d)));
            }
            return sum;
        });
        Variable out = GaussianKeysAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                Variable.constant(maps), Variable.constant(logits), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-9);
    }

    /** q, k, v, the key maps and the mixture logits by central differences, under every mask kind. */
    @Test
    void gradientsIncludingMapsAndMixture() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            GradCheck.check(in -> GaussianKeysAttention.attend(in[0], in[1], in[2], in[3], in[4], mask),
                    AttentionReference.randn(1, 1, 2, 2, 3, 2), AttentionReference.randn(2, 1, 2, 2, 4, 2),
                    AttentionReference.randn(3, 1, 2, 2, 4, 2), keyMaps(4, 2, 2, 2), AttentionReference.randn(5, 1, 2, 2));
        }
    }

    /** One Gaussian per key, A = I and keys of equal norm: exactly softmax attention (the paper's starting point). */
    @Test
    void oneComponentWithEqualNormKeysIsSoftmax() {
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 2, 2, 3, 4));
        Tensor raw = AttentionReference.randn(2, 1, 2, 2, 5, 4);
        Variable k = Variable.constant(raw.div(raw.square().sum(true, -1).sqrt()).mul(1.7)); // every key of norm 1.7
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 2, 2, 5, 3));
        Variable maps = Variable.constant(Tensor.eye(4, DType.F64).reshape(1, 1, 4, 4).expand(2, 1, 4, 4).contiguous());
        Variable logits = Variable.constant(Tensor.zeros(DType.F64, 2, 1));
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 5, 5);
            AttentionReference.assertClose(AttentionReference.naiveSoftmax(q, k, v, mask).data(),
                    GaussianKeysAttention.attend(q, k, v, maps, logits, mask).data(), 1e-12);
        }
    }

    @Test
    void parametersStartAsTheKeyItselfPlusPerturbedMaps() {
        GaussianKeysAttention kernel = new GaussianKeysAttention(2, 4, new GaussianKeysAttention.Options(GaussianKeysAttention.DEFAULT_COMPONENTS), new Generator(3));
        assertEquals(Set.of("key_maps", "mixture_logits"), kernel.namedParameters().keySet());
        Tensor maps = kernel.namedParameters().get("key_maps").data();
        assertArrayEquals(new int[] {2, 2, 4, 4}, maps.shape());
        Tensor eye = Tensor.eye(4, DType.F32);
        AttentionReference.assertClose(eye, maps.select(0, 1).select(0, 0).contiguous(), 0);
        assertNotEquals(0.0, maps.select(0, 1).select(0, 1).sub(eye).abs().sum().item(), "component 1 is perturbed");
        assertArrayEquals(new double[] {0, 0, 0, 0}, kernel.namedParameters().get("mixture_logits").data().toDoubleArray());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4).to(DType.F32));
        kernel.attend(q, q, q, AttentionMask.causalOnly()).square().sum().backward();
        for (String name : new String[] {"key_maps", "mixture_logits"}) {
            assertNotEquals(0.0, kernel.namedParameters().get(name).grad().abs().sum().item(), name + " gets a gradient");
        }
    }

    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new GaussianKeysAttention(2, 4, new GaussianKeysAttention.Options(3), new Generator(5)));
    }

    @Test
    void rejectsBadArguments() {
        var e = assertThrows(IllegalArgumentException.class, () -> new GaussianKeysAttention.Options(0));
        assertEquals("attention gaussian_keys: option components must be in [1, 16], got 0", e.getMessage());
        GaussianKeysAttention kernel = new GaussianKeysAttention(2, 4, new GaussianKeysAttention.Options(GaussianKeysAttention.DEFAULT_COMPONENTS), new Generator(1));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, q, q, AttentionMask.NONE));
        Variable q2 = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        var f = assertThrows(IllegalArgumentException.class, () -> GaussianKeysAttention.attend(q2, q2, q2,
                Variable.constant(keyMaps(1, 2, 2, 4)), Variable.constant(Tensor.zeros(DType.F64, 2, 3)), AttentionMask.NONE));
        assertEquals("GaussianKeysAttention: need key_maps (2, R, 4, 4) and mixture_logits (2, R), got [2, 2, 4, 4] and [2, 3]",
                f.getMessage());
    }
}
