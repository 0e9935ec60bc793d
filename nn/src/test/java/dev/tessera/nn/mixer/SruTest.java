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

    private static Sru sruPlusPlus(int c, int dim, long seed) {
        Sru m = new Sru(c, new Sru.Options(0.5, true, dim), DType.F64, new Generator(seed));
        m.stateDict().get("bias").copyFromInPlace(Ref.randn(seed + 99, 0.5, 2 * c));
        m.stateDict().get("alpha").copyFromInPlace(Ref.randn(seed + 98, 1, 1)); // any α, not only the initial 1
        return m;
    }

    /** The paper's equations as plain loops in doubles, from the module's parameters. */
    static double[] naive(Sru m, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        double[] w = Ref.p(p, "weight");
        double[] proj = new double[b * t * 3 * c];
        for (int r = 0; r < b * t; r++) {
            for (int o = 0; o < 3 * c; o++) {
                for (int i = 0; i < c; i++) {
                    proj[r * 3 * c + o] += w[o * c + i] * x[r * c + i];
                }
            }
        }
        return naiveRecurrence(m, proj, x, b, t, c);
    }

    /**
     * SRU++ (Lei 2021) as plain loops: Q = W_q x, K = W_k Q, V = W_v Q, causal softmax(QKᵀ/√d')V,
     * U = W_o(Q + αA), then the same recurrence.
     */
    static double[] naivePlusPlus(Sru m, double[] x, int b, int t, int c, int d) {
        Map<String, Tensor> p = m.stateDict();
        double[] wq = Ref.p(p, "q_proj");
        double[] wk = Ref.p(p, "k_proj");
        double[] wv = Ref.p(p, "v_proj");
        double[] wo = Ref.p(p, "o_proj");
        double alpha = Ref.p(p, "alpha")[0];
        double[] q = new double[b * t * d];
        double[] k = new double[b * t * d];
        double[] v = new double[b * t * d];
        for (int r = 0; r < b * t; r++) {
            for (int j = 0; j < d; j++) {
                for (int i = 0; i < c; i++) {
                    q[r * d + j] += wq[j * c + i] * x[r * c + i];
                }
            }
            for (int j = 0; j < d; j++) {
                for (int i = 0; i < d; i++) {
                    k[r * d + j] += wk[j * d + i] * q[r * d + i];
                    v[r * d + j] += wv[j * d + i] * q[r * d + i];
                }
            }
        }
        double[] proj = new double[b * t * 3 * c];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                double[] score = new double[s + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= s; j++) {
                    for (int i = 0; i < d; i++) {
                        score[j] += q[(r * t + s) * d + i] * k[(r * t + j) * d + i] / Math.sqrt(d);
                    }
                    max = Math.max(max, score[j]);
                }
                double sum = 0;
                for (int j = 0; j <= s; j++) {
                    score[j] = Math.exp(score[j] - max);
                    sum += score[j];
                }
                double[] mixed = new double[d];
                for (int i = 0; i < d; i++) {
                    double a = 0;
                    for (int j = 0; j <= s; j++) {
                        a += score[j] / sum * v[(r * t + j) * d + i];
                    }
                    mixed[i] = q[(r * t + s) * d + i] + alpha * a;
                }
                for (int o = 0; o < 3 * c; o++) {
                    for (int i = 0; i < d; i++) {
                        proj[(r * t + s) * 3 * c + o] += wo[o * d + i] * mixed[i];
                    }
                }
            }
        }
        return naiveRecurrence(m, proj, x, b, t, c);
    }

    /** The recurrence and highway from the projections (B·T, 3C): x̃, W_f x, W_r x per position. */
    private static double[] naiveRecurrence(Sru m, double[] proj, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
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
                        g[gate] = proj[(r * t + s) * 3 * c + gate * c + u];
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

    @Property(tries = 30)
    void attentionFormMatchesNaiveLoops(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 8) int c,
            @ForAll @IntRange(min = 0, max = 3) int dim) {
        Sru m = sruPlusPlus(c, dim, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        int d = dim > 0 ? dim : Math.max(1, c / 4);
        close(naivePlusPlus(m, Ref.d(x), b, t, c, d), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void attentionFormFullEqualsTokenByTokenAndChunkedDecoding() {
        Sru m = sruPlusPlus(8, 0, 5);
        Tensor x = Ref.randn(6, 1, 2, 19, 8);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] tokenByToken = new int[19];
        java.util.Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{4, 1, 6, 1, 7}, tokenByToken}) {
            close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                assertEquals(3, state.tensors().length, "the state is c, the keys and the values");
                assertArrayEquals(new int[] {2, 1, 8}, state.tensors()[0].shape(), "the recurrence is O(1): c is (B, 1, C)");
                assertEquals(state.length(), state.tensors()[1].size(1), "one key per position seen");
                assertEquals(2, state.tensors()[2].size(2), "values of width d' = C/4");
            }), 1e-12);
        }
    }

    /** Packed rows: neither the cell nor the attention crosses a document boundary. */
    @Test
    void attentionFormRestartsAtDocuments() {
        LruTest.restartsAtDocuments(sruPlusPlus(4, 2, 13), Ref.randn(14, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}}, "mixer sru");
    }

    @Test
    void attentionFormGradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(sruPlusPlus(4, 2, 9), Variable.of(Ref.randn(10, 1, 2, 6, 4), true));
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
        assertEquals(new Sru.Options(0, true, 3), MixerKind.SRU.options(Map.of("attention", "true", "attention_dim", "3")));
        var dim = assertThrows(IllegalArgumentException.class, () -> MixerKind.SRU.options(Map.of("attention_dim", "3")));
        assertEquals("mixer sru: attention_dim must be >= 0 and needs attention=true, got attention=false attention_dim=3", dim.getMessage());
        Sru pp = new Sru(8, new Sru.Options(0, true, 0), DType.F64, new Generator(1));
        assertEquals(List.of("alpha", "bias", "k_proj", "o_proj", "q_proj", "v", "v_proj"),
                new ArrayList<>(new java.util.TreeSet<>(pp.stateDict().keySet())));
        assertArrayEquals(new int[] {2, 8}, pp.stateDict().get("q_proj").shape(), "d' = C/4 by default");
        assertArrayEquals(new int[] {24, 2}, pp.stateDict().get("o_proj").shape(), "W_o maps d' to the 3C gate inputs");
        assertEquals(MixerKind.SRU, MixerKind.parse("sru"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.SRU.options(Map.of("hidden", "3")));
        assertEquals("mixer sru: unknown option 'hidden' (options: forget_bias, attention, attention_dim)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.SRU.options(Map.of("forget_bias", "NaN")));
        assertEquals("mixer sru: need a finite forget_bias, got forget_bias=NaN", w.getMessage());
        Sru m = new Sru(4, new Sru.Options(1.5), DType.F64, new Generator(1));
        assertEquals(List.of("bias", "v", "weight"), new ArrayList<>(new java.util.TreeSet<>(m.stateDict().keySet())));
        assertArrayEquals(new double[] {1.5, 1.5, 1.5, 1.5, 0, 0, 0, 0}, Ref.p(m.stateDict(), "bias"), "b_f = forget_bias, b_r = 0");
    }
}
