package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static dev.tessera.nn.mixer.LruTest.close;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class QrnnTest {

    private static Qrnn qrnn(int c, int k, int hidden, long seed) {
        Qrnn m = new Qrnn(c, new Qrnn.Options(k, hidden), DType.F64, new Generator(seed));
        // a nonzero bias, so the test sees it used in the right rows
        m.stateDict().get("bias").copyFromInPlace(Ref.randn(seed + 99, 0.5, 3 * m.hidden()));
        return m;
    }

    /** The paper's convolutions and fo-pooling as plain loops in doubles, from the module's parameters. */
    static double[] naive(Qrnn m, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        double[] w = Ref.p(p, "weight");
        double[] bias = Ref.p(p, "bias");
        double[] pr = p.containsKey("proj") ? Ref.p(p, "proj") : null;
        int h = m.hidden();
        int k = m.window();
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            double[] cell = new double[h];
            for (int s = 0; s < t; s++) {
                double[] hv = new double[h];
                for (int u = 0; u < h; u++) {
                    double[] g = new double[3];
                    for (int gate = 0; gate < 3; gate++) {
                        int row = gate * h + u;
                        double acc = bias[row];
                        for (int j = 0; j < k && s - j >= 0; j++) {
                            for (int i = 0; i < c; i++) {
                                acc += w[row * k * c + j * c + i] * x[(r * t + s - j) * c + i];
                            }
                        }
                        g[gate] = acc;
                    }
                    double z = Math.tanh(g[0]);
                    double f = 1 / (1 + Math.exp(-g[1]));
                    double o = 1 / (1 + Math.exp(-g[2]));
                    cell[u] = f * cell[u] + (1 - f) * z;
                    hv[u] = o * cell[u];
                }
                for (int q = 0; q < c; q++) {
                    double v = pr == null ? hv[q] : 0;
                    for (int u = 0; pr != null && u < h; u++) {
                        v += pr[q * h + u] * hv[u];
                    }
                    y[(r * t + s) * c + q] = v;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void parallelScanMatchesNaiveLoop(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 19) int t, @ForAll @IntRange(min = 1, max = 5) int c,
            @ForAll @IntRange(min = 1, max = 4) int k, @ForAll @IntRange(min = 0, max = 4) int hidden) {
        Qrnn m = qrnn(c, k, hidden, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void parallelEqualsTokenByTokenAndChunkedDecoding() {
        for (int k : new int[] {1, 2, 4}) {
            Qrnn m = qrnn(6, k, 5, 3);
            Tensor x = Ref.randn(4, 1, 2, 23, 6);
            double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
            int[] tokenByToken = new int[23];
            java.util.Arrays.fill(tokenByToken, 1);
            for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
                close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                    assertArrayEquals(new int[] {2, 1, 5}, state.tensors()[0].shape(), "O(1): c is (B, 1, H)");
                    if (k > 1) {
                        assertArrayEquals(new int[] {2, k - 1, 6}, state.tensors()[1].shape(), "the last k - 1 inputs");
                    }
                }), 1e-12);
            }
        }
    }

    /** Packed rows: each document's outputs are those of the document alone (pooling and convolution restart). */
    @Test
    void documentIdsRestartPoolingAndConvolution() {
        LruTest.restartsAtDocuments(qrnn(4, 3, 0, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}}, "mixer qrnn");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(qrnn(3, 2, 4, 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new Qrnn.Options(2, 0), MixerKind.QRNN.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.QRNN.options(Map.of("width", "3")));
        assertEquals("mixer qrnn: unknown option 'width' (options: window, hidden)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.QRNN.options(Map.of("window", "0")));
        assertEquals("mixer qrnn: need window >= 1 and hidden >= 0, got window=0 hidden=0", w.getMessage());
        assertEquals(List.of("bias", "weight"), new ArrayList<>(new java.util.TreeSet<>(qrnn(4, 2, 0, 1).stateDict().keySet())));
        assertEquals(3, qrnn(4, 2, 6, 1).stateDict().size(), "a projection back to C when H != C");
    }
}
