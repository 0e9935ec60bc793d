package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

class LunaAttentionTest {

    /** Softmax attention of query rows over key/value rows, in plain double loops: rows are [n][D]. */
    private static double[][] attention(double[][] queries, double[][] keys, double[][] values) {
        double[][] out = new double[queries.length][values[0].length];
        for (int i = 0; i < queries.length; i++) {
            double[] w = new double[keys.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < keys.length; j++) {
                w[j] = dot(queries[i], keys[j]) / Math.sqrt(queries[i].length);
                max = Math.max(max, w[j]);
            }
            double total = 0;
            for (int j = 0; j < keys.length; j++) {
                w[j] = Math.exp(w[j] - max);
                total += w[j];
            }
            for (int j = 0; j < keys.length; j++) {
                for (int e = 0; e < out[i].length; e++) {
                    out[i][e] += w[j] / total * values[j][e];
                }
            }
        }
        return out;
    }

    private static double[][] rows(double[] x, int offset, int n, int d) {
        double[][] r = new double[n][d];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, offset + i * d, r[i], 0, d);
        }
        return r;
    }

    private static double[][] times(double[][] a, double[][] w) {
        double[][] out = new double[a.length][w[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < w[0].length; j++) {
                for (int e = 0; e < w.length; e++) {
                    out[i][j] += a[i][e] * w[e][j];
                }
            }
        }
        return out;
    }

    /** Pack then unpack, per (batch, head), against the two softmax attentions written out in doubles. */
    @Property(tries = 60)
    void matchesNestedReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 5) int l,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        Tensor p = AttentionReference.randn(seed + 3, 1, h, l, d);
        Tensor wk = AttentionReference.randn(seed + 4, 0.7, h, d, d);
        Tensor wv = AttentionReference.randn(seed + 5, 0.7, h, d, d);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] pa = p.toDoubleArray(), wka = wk.toDoubleArray(), wva = wv.toDoubleArray();
        double[] expected = new double[b * h * t * d];
        for (int bb = 0; bb < b; bb++) {
            for (int hh = 0; hh < h; hh++) {
                int bh = bb * h + hh;
                double[][] pack = attention(rows(pa, hh * l * d, l, d), rows(ka, bh * s * d, s, d), rows(va, bh * s * d, s, d));
                double[][] out = attention(rows(qa, bh * t * d, t, d), times(pack, rows(wka, hh * d * d, d, d)),
                        times(pack, rows(wva, hh * d * d, d, d)));
                for (int i = 0; i < t; i++) {
                    System.arraycopy(out[i], 0, expected, (bh * t + i) * d, d);
                }
            }
        }
        Variable out = LunaAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), Variable.constant(p),
                Variable.constant(wk), Variable.constant(wv), AttentionMask.NONE);
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        GradCheck.check(in -> LunaAttention.attend(in[0], in[1], in[2], in[3], in[4], in[5], AttentionMask.NONE),
                AttentionReference.randn(1, 1, 2, 2, 5, 3), AttentionReference.randn(2, 1, 2, 2, 6, 3),
                AttentionReference.randn(3, 1, 2, 2, 6, 3), AttentionReference.randn(4, 1, 2, 3, 3),
                AttentionReference.randn(5, 0.7, 2, 3, 3), AttentionReference.randn(6, 0.7, 2, 3, 3));
    }

    @Test
    void learnsItsPackedSequencePerHeadAndIsNamedWithItsOptions() {
        LunaAttention kernel = new LunaAttention(2, 4, new LunaAttention.Options(3), new Generator(1));
        assertEquals(Set.of("packed", "unpack_key", "unpack_value"), kernel.namedParameters().keySet());
        assertArrayEquals(new int[] {2, 3, 4}, kernel.namedParameters().get("packed").data().shape());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 6, 4).to(DType.F32));
        assertArrayEquals(new int[] {1, 2, 6, 4}, kernel.attend(q, q, q, AttentionMask.NONE).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, q, q, AttentionMask.causalOnly()));
        assertEquals("LunaAttention: every packed row mixes all keys, so it is bidirectional only; got a causal or document mask",
                e.getMessage());
        assertEquals(new LunaAttention.Options(8), AttentionKind.LUNA.options(Map.of("pack_length", "8")));
        assertEquals("attention luna: option pack_length must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.LUNA.options(Map.of("pack_length", "0"))).getMessage());
        assertTrue(!AttentionKind.LUNA.causal());
        var c = MultiHeadAttention.Config.llama(8, 2, 2, 16).withAttention(AttentionKind.LUNA, new LunaAttention.Options(4));
        var mha = new MultiHeadAttention(c, new Generator(2));
        assertTrue(mha.namedParameters().containsKey("kernel.packed"), mha.namedParameters().keySet().toString());
    }
}
