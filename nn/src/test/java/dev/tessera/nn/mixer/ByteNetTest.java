package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ByteNetTest {

    static ByteNet bytenet(int c, ByteNet.Options o, long seed) {
        ByteNet m = new ByteNet(c, o, DType.F64, new Generator(seed));
        long s = seed;
        for (var e : new java.util.TreeMap<>(m.stateDict()).entrySet()) { // norms and biases away from 1 and 0
            if (e.getKey().contains("ln_") || e.getKey().endsWith("bias")) {
                e.getValue().copyFromInPlace(Ref.randn(++s + 300, 0.3, e.getValue().shape()).add(e.getKey().endsWith("weight") ? 1 : 0));
            }
        }
        return m;
    }

    private static double[] reluNorm(double[] x, int dim, Map<String, Tensor> p, String ln) {
        double[] y = Ref.layerNorm(x, dim, Ref.p(p, ln + ".weight"), Ref.p(p, ln + ".bias"), 1e-5);
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.max(y[i], 0);
        }
        return y;
    }

    /** Figure 3's residual blocks with the masked dilated convolution as PyTorch's left-padded Conv1d, in doubles. */
    static double[] naive(ByteNet m, ByteNet.Options o, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        int h = p.get("unit0.reduce.weight").size(0);
        int k = o.width();
        int[] dil = m.dilations();
        double[] hs = x.clone();
        for (int u = 0; u < dil.length; u++) {
            String pre = "unit" + u + ".";
            double[] a = Ref.linear(reluNorm(hs, c, p, pre + "ln_in"), b * t, c, Ref.p(p, pre + "reduce.weight"), Ref.p(p, pre + "reduce.bias"), h);
            a = reluNorm(a, h, p, pre + "ln_mid");
            double[] w = Ref.p(p, pre + "conv.weight");
            double[] bias = Ref.p(p, pre + "conv.bias");
            double[] conv = new double[b * t * h];
            for (int r = 0; r < b; r++) {
                for (int i = 0; i < t; i++) {
                    for (int q = 0; q < h; q++) {
                        double acc = bias[q];
                        for (int j = 0; j < k; j++) {
                            int src = i - (k - 1 - j) * dil[u];
                            for (int in = 0; src >= 0 && in < h; in++) {
                                acc += w[(q * h + in) * k + j] * a[(r * t + src) * h + in];
                            }
                        }
                        conv[(r * t + i) * h + q] = acc;
                    }
                }
            }
            double[] e = Ref.linear(reluNorm(conv, h, p, pre + "ln_out"), b * t, h, Ref.p(p, pre + "expand.weight"), Ref.p(p, pre + "expand.bias"), c);
            for (int i = 0; i < hs.length; i++) {
                hs[i] += e[i];
            }
        }
        for (int i = 0; i < hs.length; i++) {
            hs[i] -= x[i];
        }
        return hs;
    }

    @Property(tries = 20)
    void matchesNaiveStack(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 30) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 3) int width, @ForAll @IntRange(min = 0, max = 3) int hidden,
            @ForAll @IntRange(min = 0, max = 3) int log2Max, @ForAll @IntRange(min = 1, max = 2) int stacks) {
        ByteNet.Options o = new ByteNet.Options(width, hidden, 1 << log2Max, stacks);
        ByteNet m = bytenet(c, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, o, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    /** Full == decoding with the per-unit windows of the last (k − 1)·r inputs: token by token and in chunks; windows never grow. */
    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        ByteNet m = bytenet(4, new ByteNet.Options(3, 0, 8, 1), 3);
        assertArrayEquals(new int[] {1, 2, 4, 8}, m.dilations());
        Tensor x = Ref.randn(4, 1, 2, 23, 4);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] tokenByToken = new int[23];
        java.util.Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
            close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                for (int u = 0; u < 4; u++) {
                    assertArrayEquals(new int[] {2, 2 << u, 2}, state.tensors()[u].shape(), "O(1): (k - 1)·r inputs of width H");
                }
            }), 1e-11);
        }
    }

    @Test
    void documentIdsRestartEveryUnit() {
        LruTest.restartsAtDocuments(bytenet(4, new ByteNet.Options(3, 0, 4, 1), 11), Ref.randn(12, 1, 2, 17, 4),
                new int[][] {{0, 1, 6, 7, 13}, {0, 9}}, "mixer bytenet");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(bytenet(3, new ByteNet.Options(2, 2, 2, 1), 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new ByteNet.Options(3, 0, 16, 1), MixerKind.BYTENET.defaultOptions());
        assertArrayEquals(new int[] {1, 2, 4, 8, 16}, new ByteNet(8, (ByteNet.Options) MixerKind.BYTENET.defaultOptions(), DType.F32,
                new Generator(1)).dilations(), "the paper's 1..16 doubling");
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.BYTENET.options(Map.of("max_dilation", "12")));
        assertEquals("mixer bytenet: need width >= 1, hidden >= 0, max_dilation a power of two and stacks >= 1, got width=3 hidden=0"
                + " max_dilation=12 stacks=1", o.getMessage());
    }
}
