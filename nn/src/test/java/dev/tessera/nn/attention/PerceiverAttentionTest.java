package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.NystromReference.matrix;
import static dev.tessera.nn.attention.NystromReference.mul;
import static dev.tessera.nn.attention.NystromReference.scale;
import static dev.tessera.nn.attention.NystromReference.softmaxRows;
import static dev.tessera.nn.attention.NystromReference.transpose;
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

class PerceiverAttentionTest {

    /** softmax(a bᵀ/√D) c in plain double loops. */
    private static double[][] attention(double[][] a, double[][] b, double[][] c) {
        return mul(softmaxRows(scale(mul(a, transpose(b)), 1 / Math.sqrt(a[0].length))), c);
    }

    private static double[][] plus(double[][] a, double[][] b) {
        double[][] out = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                out[i][j] = a[i][j] + b[i][j];
            }
        }
        return out;
    }

    /** Cross, latent, read, per (batch, head), against the three softmax attentions written out in doubles. */
    @Property(tries = 50)
    void matchesLatentReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 5) int n,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        Tensor z = AttentionReference.randn(seed + 3, 1, h, n, d);
        Tensor[] w = new Tensor[5];
        for (int i = 0; i < 5; i++) {
            w[i] = AttentionReference.randn(seed + 4 + i, 0.7, h, d, d);
        }
        int[] qs = {b, h, t, d}, ks = {b, h, s, d}, zs = {1, h, n, d}, ws = {1, h, d, d};
        double[] expected = new double[b * h * t * d];
        for (int bb = 0; bb < b; bb++) {
            for (int hh = 0; hh < h; hh++) {
                double[][][] m = new double[5][][];
                for (int i = 0; i < 5; i++) {
                    m[i] = matrix(w[i].toDoubleArray(), ws, 0, hh);
                }
                double[][] l0 = attention(matrix(z.toDoubleArray(), zs, 0, hh), matrix(k.toDoubleArray(), ks, bb, hh),
                        matrix(v.toDoubleArray(), ks, bb, hh));
                double[][] l1 = plus(l0, attention(mul(l0, m[0]), mul(l0, m[1]), mul(l0, m[2])));
                double[][] out = attention(matrix(q.toDoubleArray(), qs, bb, hh), mul(l1, m[3]), mul(l1, m[4]));
                for (int i = 0; i < t; i++) {
                    System.arraycopy(out[i], 0, expected, ((bb * h + hh) * t + i) * d, d);
                }
            }
        }
        Variable out = PerceiverAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), Variable.constant(z),
                Variable.constant(w[0]), Variable.constant(w[1]), Variable.constant(w[2]), Variable.constant(w[3]), Variable.constant(w[4]),
                AttentionMask.NONE);
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        GradCheck.check(in -> PerceiverAttention.attend(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], AttentionMask.NONE),
                AttentionReference.randn(1, 1, 2, 2, 4, 3), AttentionReference.randn(2, 1, 2, 2, 5, 3),
                AttentionReference.randn(3, 1, 2, 2, 5, 3), AttentionReference.randn(4, 1, 2, 3, 3),
                AttentionReference.randn(5, 0.7, 2, 3, 3), AttentionReference.randn(6, 0.7, 2, 3, 3),
                AttentionReference.randn(7, 0.7, 2, 3, 3), AttentionReference.randn(8, 0.7, 2, 3, 3),
                AttentionReference.randn(9, 0.7, 2, 3, 3));
    }

    @Test
    void learnsItsLatentsPerHeadAndIsNamedWithItsOptions() {
        PerceiverAttention kernel = new PerceiverAttention(2, 4, new PerceiverAttention.Options(3), new Generator(1));
        assertEquals(Set.of("latents", "latent_query", "latent_key", "latent_value", "read_key", "read_value"),
                kernel.namedParameters().keySet());
        assertArrayEquals(new int[] {2, 3, 4}, kernel.namedParameters().get("latents").data().shape());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 6, 4).to(DType.F32));
        assertArrayEquals(new int[] {1, 2, 6, 4}, kernel.attend(q, q, q, AttentionMask.NONE).shape());
        var e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, q, q, AttentionMask.causalOnly()));
        assertEquals("PerceiverAttention: every latent reads every input, so it is bidirectional only; got a causal or document mask",
                e.getMessage());
        assertEquals(new PerceiverAttention.Options(16), AttentionKind.PERCEIVER.defaultOptions());
        assertEquals(new PerceiverAttention.Options(8), AttentionKind.PERCEIVER.options(Map.of("latents", "8")));
        assertEquals("attention perceiver: option latents must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.PERCEIVER.options(Map.of("latents", "0"))).getMessage());
        assertTrue(!AttentionKind.PERCEIVER.causal());
        var c = MultiHeadAttention.Config.llama(8, 2, 2, 16).withAttention(AttentionKind.PERCEIVER, new PerceiverAttention.Options(4));
        var mha = new MultiHeadAttention(c, new Generator(2));
        assertTrue(mha.namedParameters().containsKey("kernel.latents"), mha.namedParameters().keySet().toString());
    }

    /**
     * Perceiver AR's first layer (the last N positions' queries over all keys, causal): one such
     * layer gives exactly the last N rows of ordinary causal self-attention, RoPE and grouped-query
     * heads included; with a cache holding the earlier positions too.
     */
    @Property(tries = 20)
    void lastQueriesOverAllKeysAreTheLastRowsOfCausalSelfAttention(@ForAll @IntRange(min = 1, max = 7) int t,
            @ForAll @IntRange(min = 1, max = 7) int n, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int rows = Math.min(n, t);
        var mha = new MultiHeadAttention(MultiHeadAttention.Config.llama(8, 2, 1, 16).withDtype(DType.F64), new Generator(seed));
        Variable x = Variable.constant(AttentionReference.randn(seed, 1, 2, t, 8));
        Variable last = x.narrow(1, t - rows, rows);
        Tensor full = mha.forward(x, AttentionMask.causalOnly()).data().narrow(1, t - rows, rows);
        AttentionReference.assertClose(full.toDoubleArray(), mha.forward(last, x, AttentionMask.causalOnly(), null).data(), 1e-12);
        KvCache cache = KvCache.growing(); // the first t − 1 positions cached, the last one new; queries still the last rows
        mha.forward(x.narrow(1, 0, t - 1), AttentionMask.causalOnly(), cache);
        if (t > 1) {
            Variable cached = mha.forward(last, x.narrow(1, t - 1, 1), AttentionMask.causalOnly(), cache);
            AttentionReference.assertClose(full.toDoubleArray(), cached.data(), 1e-12);
        }
    }

    @Test
    void lastQueriesGradientsMatchFiniteDifferences() {
        var mha = new MultiHeadAttention(MultiHeadAttention.Config.llama(8, 2, 1, 16).withDtype(DType.F64), new Generator(3));
        GradCheck.check(in -> mha.forward(in[0].narrow(1, 3, 2), in[0], AttentionMask.causalOnly(), null), AttentionReference.randn(4, 1, 2, 5, 8));
        var e = assertThrows(IllegalArgumentException.class, () -> mha.forward(Variable.constant(AttentionReference.randn(1, 1, 1, 3, 8)),
                Variable.constant(AttentionReference.randn(1, 1, 1, 2, 8)), AttentionMask.causalOnly(), null));
        assertEquals("MultiHeadAttention: 3 queries but only 2 key positions", e.getMessage());
    }

    /** A bidirectional task (a masked token from both its neighbours): 10 steps lower the loss well below its start. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = BidirectionalTraining.train(g -> new PerceiverAttention(2, 8, new PerceiverAttention.Options(4), g), 10);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
