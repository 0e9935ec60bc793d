package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ConditionalAttentionTest {

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** out_i = light_i + [i routed] σ(a_i) Σ_{j routed} softmax(q_i·k_j/√D) σ(b_j) v_j, in double loops. */
    @Property(tries = 60)
    void matchesLightPlusRoutedHeavyReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 6) int window,
            @ForAll @IntRange(min = 1, max = 7) int m, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor rq = AttentionReference.randn(seed + 3, 1, h, d, 1);
        Tensor rk = AttentionReference.randn(seed + 4, 1, h, d, 1);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray(), rqa = rq.toDoubleArray(), rka = rk.toDoubleArray();
        double[] light = AttentionReference.attendRows(q, k, v, AttentionMask.NONE,
                (hh, i, j, qi, kj) -> Math.abs(i - j) < window ? Math.exp(dot(qi, kj) / Math.sqrt(d)) : 0);
        double[] expected = light.clone();
        for (int bb = 0; bb < b; bb++) {
            for (int hh = 0; hh < h; hh++) {
                double[] router = java.util.Arrays.copyOfRange(rqa, hh * d, hh * d + d);
                double[] keyRouter = java.util.Arrays.copyOfRange(rka, hh * d, hh * d + d);
                double[] a = new double[t];
                double[] bs = new double[s];
                for (int i = 0; i < t; i++) {
                    a[i] = dot(row(qa, q.shape(), bb, hh, i), router);
                }
                for (int j = 0; j < s; j++) {
                    bs[j] = dot(row(ka, k.shape(), bb, hh, j), keyRouter);
                }
                for (int i = 0; i < t; i++) {
                    if (!Ref.routed(a, i, m)) {
                        continue;
                    }
                    double total = 0;
                    double[] acc = new double[d + 1];
                    for (int j = 0; j < s; j++) {
                        if (Ref.routed(bs, j, m)) {
                            double w = Math.exp(dot(row(qa, q.shape(), bb, hh, i), row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d));
                            total += w;
                            double[] vj = row(va, v.shape(), bb, hh, j);
                            for (int e = 0; e <= d; e++) {
                                acc[e] += w * sigmoid(bs[j]) * vj[e];
                            }
                        }
                    }
                    for (int e = 0; e <= d; e++) {
                        expected[((bb * h + hh) * t + i) * (d + 1) + e] += sigmoid(a[i]) * acc[e] / total;
                    }
                }
            }
        }
        Variable out = ConditionalAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), Variable.constant(rq),
                Variable.constant(rk), new ConditionalAttention.Options(window, m), AttentionMask.NONE);
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /** q, k, v and both routers by F64 finite differences (3 of 7 tokens routed, so the selection matters). */
    @Test
    void gradientsMatchFiniteDifferences() {
        var options = new ConditionalAttention.Options(2, 3);
        GradCheck.check(in -> ConditionalAttention.attend(in[0], in[1], in[2], in[3], in[4], options, AttentionMask.NONE),
                AttentionReference.randn(1, 1, 2, 2, 7, 3), AttentionReference.randn(2, 1, 2, 2, 7, 3),
                AttentionReference.randn(3, 1, 2, 2, 7, 2), AttentionReference.randn(4, 1, 2, 3, 1),
                AttentionReference.randn(5, 1, 2, 3, 1));
    }

    @Test
    void routersAreParametersAndTheKindIsNamedWithItsOptions() {
        var kernel = new ConditionalAttention(2, 4, new ConditionalAttention.Options(3, 2), new Generator(1));
        assertEquals(Set.of("query_router", "key_router"), kernel.namedParameters().keySet());
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 6, 4).to(dev.tessera.tensor.DType.F32));
        assertArrayEquals(new int[] {1, 2, 6, 4}, kernel.attend(x, x, x, AttentionMask.NONE).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly()));
        assertEquals("ConditionalAttention: routing ranks the whole sequence, so it is bidirectional only; got a causal or document mask",
                e.getMessage());
        assertEquals(new ConditionalAttention.Options(4, 16), AttentionKind.CONDITIONAL.options(Map.of("window", "4")));
        assertEquals("attention conditional: options window and routed must be >= 1, got window=8 routed=0",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.CONDITIONAL.options(Map.of("routed", "0"))).getMessage());
        assertTrue(!AttentionKind.CONDITIONAL.causal());
        Tensor pick = ConditionalAttention.selection(Tensor.of(new double[] {0.5, 2, -1, 2, 0}, 1, 1, 5, 1), 3);
        assertArrayEquals(new double[] {1, 0, 0, 0, 0, /* */ 0, 1, 0, 0, 0, /* */ 0, 0, 0, 1, 0}, pick.toDoubleArray(), 0);
    }
}
