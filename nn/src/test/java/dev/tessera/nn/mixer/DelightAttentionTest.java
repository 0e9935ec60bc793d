package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.Dextra;
import dev.tessera.nn.ffn.DextraRef;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** E6: DeLighT's attention side, DExTra d_m → d_m/2 then one causal softmax head and the projection back, against loops in doubles. */
class DelightAttentionTest {

    static DelightAttention delight(int c, int depth, double wm, int gmax, long seed) {
        return MixerChecks.randomised(new DelightAttention(c, new DelightAttention.Options(depth, wm, gmax, 0, 0), DType.F64,
                new Generator(seed)), seed + 1);
    }

    /** The javadoc's equations: DExTra per token ({@link DextraRef}), Q, K, V, causal softmax over the past (within the document), out_proj. */
    static double[] naive(DelightAttention m, double[] x, int b, int t, int c, long[] docs) {
        Map<String, Tensor> p = m.stateDict();
        int d = c / 2;
        int rows = b * t;
        double[] h = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            double[] one = DextraRef.dextra(p, "dextra.", m.dextra().widths(), m.dextra().groupCounts(),
                    java.util.Arrays.copyOfRange(x, r * c, (r + 1) * c));
            System.arraycopy(one, 0, h, r * d, d);
        }
        double[] q = Ref.linear(h, rows, d, Ref.p(p, "q_proj.weight"), Ref.p(p, "q_proj.bias"), d);
        double[] k = Ref.linear(h, rows, d, Ref.p(p, "k_proj.weight"), Ref.p(p, "k_proj.bias"), d);
        double[] v = Ref.linear(h, rows, d, Ref.p(p, "v_proj.weight"), Ref.p(p, "v_proj.bias"), d);
        double[] a = new double[rows * d];
        for (int n = 0; n < b; n++) {
            for (int i = 0; i < t; i++) {
                int qi = n * t + i;
                double[] w = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    int kj = n * t + j;
                    if (docs != null && docs[kj] != docs[qi]) {
                        w[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double s = 0;
                    for (int e = 0; e < d; e++) {
                        s += q[qi * d + e] * k[kj * d + e];
                    }
                    w[j] = s / Math.sqrt(d);
                    max = Math.max(max, w[j]);
                }
                double z = 0;
                for (int j = 0; j <= i; j++) {
                    w[j] = Math.exp(w[j] - max);
                    z += w[j];
                }
                for (int j = 0; j <= i; j++) {
                    for (int e = 0; e < d; e++) {
                        a[qi * d + e] += w[j] / z * v[(n * t + j) * d + e];
                    }
                }
            }
        }
        return Ref.linear(a, rows, d, Ref.p(p, "out_proj.weight"), Ref.p(p, "out_proj.bias"), c);
    }

    @Property(tries = 25)
    void matchesTheNaiveBlock(@ForAll @IntRange(min = 1, max = 100000) int seed, @ForAll @IntRange(min = 1, max = 2) int b,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 1, max = 2) int perGroup,
            @ForAll @IntRange(min = 0, max = 2) int logGroups, @ForAll @IntRange(min = 1, max = 5) int depth,
            @ForAll @IntRange(min = 2, max = 5) int wmHalves, @ForAll boolean packed) {
        int gmax = 1 << logGroups;
        int c = 2 * gmax * perGroup;
        DelightAttention m = delight(c, depth, wmHalves / 2.0, gmax, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        long[] docs = null;
        if (packed) { // a new document wherever the seeded coin says
            java.util.Random r = new java.util.Random(seed);
            docs = new long[b * t];
            for (int i = 1; i < docs.length; i++) {
                docs[i] = docs[i - 1] + (i % t != 0 && r.nextBoolean() ? 0 : 1);
            }
        }
        AttentionMask mask = docs == null ? AttentionMask.causalOnly() : new AttentionMask(true, Tensor.of(docs, b, t), 0);
        LruTest.close(naive(m, Ref.d(x), b, t, c, docs), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    /** The full forward == decoding in chunks of 5, 1, 1, 7, 2 (and token by token) from the held keys and values, (B, P, d_o) each. */
    @Test
    void decodingFromTheHeldKeysAndValuesEqualsTheFullForward() {
        MixerChecks.decodesInChunks(delight(8, 3, 2, 2, 3), Ref.randn(4, 1, 2, 16, 8), 0, 4, n -> n);
        MixerChecks.decodesInChunks(delight(8, 4, 1.5, 4, 5), Ref.randn(6, 1, 2, 16, 8), 1, 4, n -> n);
        DelightAttention m = delight(4, 2, 2, 2, 7);
        Tensor x = Ref.randn(8, 1, 1, 6, 4);
        LruTest.close(Ref.d(m.forward(Variable.constant(x), null, null).data()),
                LruTest.decodeInChunks(m, x, new int[] {1, 1, 1, 1, 1, 1}, s -> { }), 1e-12);
    }

    @Test
    void eachPackedDocumentStartsAfresh() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(delight(4, 3, 2, 2, 3), Ref.randn(4, 1, 2, 11, 4), ids, true);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(delight(4, 3, 1.5, 2, 5), Variable.of(Ref.randn(6, 1, 2, 6, 4), true), true);
    }

    /** Eq. 4 through the options: layer 0 of 4 gets N_min and w_m, the last N_max and w_m + N_max/N_min − 1; parameters grow with the block. */
    @Test
    void blockWiseScalingDeepensAndWidensLaterLayers() {
        MixerKind.Spec spec = MixerKind.Spec.of("delight", Map.of("n_min", "2", "n_max", "5", "width_mult", "2"));
        int[] depths = {2, 3, 4, 5};
        double[] mults = {2, 2.5, 3, 3.5};
        long before = 0;
        for (int b = 0; b < 4; b++) {
            DelightAttention.Options o = (DelightAttention.Options) spec.atLayer(b, 4).options();
            assertEquals(new DelightAttention.Options(depths[b], mults[b], 4, 0, 0), o);
            DelightAttention m = (DelightAttention) spec.atLayer(b, 4).create(16, DType.F64, new Generator(1));
            assertEquals(depths[b], m.dextra().depth());
            assertEquals(16 / 2, m.dextra().widths()[depths[b] - 1]);
            assertEquals(4 * (int) Math.ceil(mults[b] * 16 / 4), java.util.Arrays.stream(m.dextra().widths()).max().getAsInt()); // d_max = w_m^b·d_m
            assertTrue(m.parameterCount() > before, "block " + b + ": " + m.parameterCount() + " parameters after " + before);
            before = m.parameterCount();
        }
        MixerKind.Spec off = MixerKind.Spec.of("delight", Map.of("depth", "3"));
        assertEquals(off, off.atLayer(2, 4)); // scaling off: every layer keeps depth
    }

    @Test
    void optionsAndOneLineErrors() {
        assertTrue(MixerKind.Spec.of("delight", Map.of()).causal());
        assertEquals(new DelightAttention.Options(4, 2, 4, 0, 0), MixerKind.DELIGHT.defaultOptions());
        var s = assertThrows(IllegalArgumentException.class, () -> MixerKind.Spec.of("delight", Map.of("n_min", "3", "n_max", "2")));
        assertEquals("mixer delight: block-wise scaling needs 1 <= n_min <= n_max (n_min = n_max = 0 for off), got n_min=3 n_max=2",
                s.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> delight(6, 2, 2, 4, 1));
        assertEquals("mixer delight: max_groups 4 must divide the width 6", g.getMessage());
        var n = assertThrows(IllegalArgumentException.class, () -> delight(4, 2, 2, 2, 1)
                .forward(Variable.constant(Ref.randn(1, 1, 1, 3, 4)), AttentionMask.NONE, null));
        assertEquals("mixer delight: a token mixer is causal; got a non-causal mask", n.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> Dextra.depthAt(2, 5, 4, 4));
        assertEquals("DExTra block-wise scaling: need 1 <= n_min <= n_max and 0 <= block < blocks, got n_min=2 n_max=5 block=4 blocks=4",
                d.getMessage());
    }
}
