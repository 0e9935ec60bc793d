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

class SruTest {

    private static Sru sru(int c, long seed) {
        Sru m = new Sru(c, new Sru.Options(0.5), DType.F64, new Generator(seed));
        // a random bias (b_f and b_r differ), so the test sees each half used in its own gate
        m.stateDict().get("bias").copyFromInPlace(Ref.randn(seed + 99, 0.5, 2 * c));
        return m;
    }

    /** The paper's equations as plain loops in doubles, from the module's parameters. */
    static double[] naive(Sru m, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        double[] w = Ref.p(p, "weight");
        double[] v = Ref.p(p, "v");
        double[] bias = Ref.p(p, "bias");
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            double[] cell = new double[c];
            for (int s = 0; s < t; s++) {
                double[] next = new double[c];
                for (int u = 0; u < c; u++) {
                    double[] g = new double[3];
                    for (int gate = 0; gate < 3; gate++) {
                        for (int i = 0; i < c; i++) {
                            g[gate] += w[(gate * c + u) * c + i] * x[(r * t + s) * c + i];
                        }
                    }
                    double f = 1 / (1 + Math.exp(-(g[1] + v[u] * cell[u] + bias[u])));
                    double rr = 1 / (1 + Math.exp(-(g[2] + v[c + u] * cell[u] + bias[c + u])));
                    next[u] = f * cell[u] + (1 - f) * g[0];
                    y[(r * t + s) * c + u] = rr * next[u] + (1 - rr) * x[(r * t + s) * c + u];
                }
                cell = next;
            }
        }
        return y;
    }

    @Property(tries = 30)
    void loopMatchesNaiveLoop(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 19) int t, @ForAll @IntRange(min = 1, max = 5) int c) {
        Sru m = sru(c, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        Sru m = sru(6, 3);
        Tensor x = Ref.randn(4, 1, 2, 23, 6);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] tokenByToken = new int[23];
        java.util.Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
            close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                assertEquals(1, state.tensors().length, "the state is c alone");
                assertArrayEquals(new int[] {2, 1, 6}, state.tensors()[0].shape(), "O(1): c is (B, 1, C)");
            }), 1e-12);
        }
    }

    /** Packed rows: each document's outputs are those of the document alone (the cell restarts). */
    @Test
    void documentIdsRestartTheCell() {
        LruTest.restartsAtDocuments(sru(4, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}}, "mixer sru");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(sru(3, 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new Sru.Options(0), MixerKind.SRU.defaultOptions());
        assertEquals(MixerKind.SRU, MixerKind.parse("sru"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.SRU.options(Map.of("hidden", "3")));
        assertEquals("mixer sru: unknown option 'hidden' (options: forget_bias)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.SRU.options(Map.of("forget_bias", "NaN")));
        assertEquals("mixer sru: need a finite forget_bias, got forget_bias=NaN", w.getMessage());
        Sru m = new Sru(4, new Sru.Options(1.5), DType.F64, new Generator(1));
        assertEquals(List.of("bias", "v", "weight"), new ArrayList<>(new java.util.TreeSet<>(m.stateDict().keySet())));
        assertArrayEquals(new double[] {1.5, 1.5, 1.5, 1.5, 0, 0, 0, 0}, Ref.p(m.stateDict(), "bias"), "b_f = forget_bias, b_r = 0");
    }
}
