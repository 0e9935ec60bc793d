package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class LmuTest {

    private static Lmu lmu(int c, int order, double theta, int units, boolean feedback, long seed) {
        Lmu m = new Lmu(c, new Lmu.Options(order, theta, units, feedback), DType.F64, new Generator(seed));
        m.stateDict().get("bias").copyFromInPlace(Ref.randn(seed + 99, 0.3, c));
        return m;
    }

    /**
     * The cell in doubles: u_t = E x_t (+ E_h h_{t−1} + E_m vec(m_{t−1}) with feedback), m_t = Ā m_{t−1} + B̄ u_t per memory
     * input, h_t = tanh(W_x x_t (+ W_h h_{t−1}) + W_m vec(m_t) + b).
     */
    static double[] naive(Lmu m, double[] x, int b, int t, int c, int units) {
        Map<String, Tensor> p = m.stateDict();
        double[] a = m.discretised()[0];
        double[] bb = m.discretised()[1];
        int d = bb.length;
        double[] e = Ref.p(p, "input_encoders");
        double[] eh = Ref.p(p, "hidden_encoders"); // null without feedback
        double[] em = Ref.p(p, "memory_encoders");
        double[] wx = Ref.p(p, "input_kernel");
        double[] wh = Ref.p(p, "hidden_kernel");
        double[] wm = Ref.p(p, "memory_kernel");
        double[] bias = Ref.p(p, "bias");
        double[] out = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            double[] mem = new double[units * d];
            double[] h = new double[c];
            for (int s = 0; s < t; s++) {
                int row = (r * t + s) * c;
                double[] next = new double[units * d];
                for (int q = 0; q < units; q++) {
                    double in = 0;
                    for (int i = 0; i < c; i++) {
                        in += e[q * c + i] * x[row + i] + (eh == null ? 0 : eh[q * c + i] * h[i]);
                    }
                    for (int j = 0; em != null && j < units * d; j++) {
                        in += em[q * units * d + j] * mem[j];
                    }
                    for (int i = 0; i < d; i++) {
                        double v = bb[i] * in;
                        for (int k = 0; k < d; k++) {
                            v += a[i * d + k] * mem[q * d + k];
                        }
                        next[q * d + i] = v;
                    }
                }
                mem = next;
                double[] hNext = new double[c];
                for (int o = 0; o < c; o++) {
                    double z = bias[o];
                    for (int i = 0; i < c; i++) {
                        z += wx[o * c + i] * x[row + i] + (wh == null ? 0 : wh[o * c + i] * h[i]);
                    }
                    for (int j = 0; j < units * d; j++) {
                        z += wm[o * units * d + j] * mem[j];
                    }
                    hNext[o] = Math.tanh(z);
                }
                h = hNext;
                System.arraycopy(h, 0, out, row, c);
            }
        }
        return out;
    }

    @Property(tries = 30)
    void convolutionMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 4) int c,
            @ForAll @IntRange(min = 1, max = 6) int order, @ForAll @IntRange(min = 1, max = 3) int units, @ForAll boolean feedback) {
        Lmu m = lmu(c, order, 1.5 + (seed & 7), units, feedback, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, Ref.d(x), b, t, c, units), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void convolutionEqualsRecurrenceAndChunkedDecoding() {
        Lmu m = lmu(5, 6, 8, 3, false, 3);
        Tensor x = Ref.randn(4, 1, 2, 23, 5);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(x)).data()), full, 1e-12);
        MixerForms.decodesLikeFull(m, x, full, 1e-12, state -> {
            assertEquals(1, state.tensors().length, "the state is the memory m");
            assertArrayEquals(new int[] {2, 1, 3, 6}, state.tensors()[0].shape(), "O(1): m is (B, 1, U, d)");
        });
        Lmu cell = lmu(5, 6, 8, 3, true, 5);
        double[] loop = Ref.d(cell.forward(Variable.constant(x), null, null).data());
        close(loop, LruTest.decodeInChunks(cell, x, new int[] {5, 1, 1, 7, 1, 8}, state -> {
            assertEquals(2, state.tensors().length, "with feedback the state is m and h");
            assertArrayEquals(new int[] {2, 1, 5}, state.tensors()[1].shape(), "O(1): h is (B, 1, C)");
        }), 1e-12);
    }

    /** Ā and B̄ against scipy.signal.cont2discrete(zoh), and A, B against the paper's formula as the fixture script writes it. */
    @Test
    void discretisationMatchesScipy() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e15/lmu_zoh.safetensors").toURI()));
        int cases = 0;
        for (String key : g.keySet()) {
            if (!key.endsWith(".Abar")) {
                continue;
            }
            String c = key.substring(0, key.length() - ".Abar".length()); // d<order>_theta<theta>
            int d = Integer.parseInt(c.substring(1, c.indexOf('_')));
            double theta = Double.parseDouble(c.substring(c.indexOf("theta") + 5));
            double[][] ab = Lmu.continuous(d);
            close(Ref.d(g.get(c + ".A")), ab[0], 0);
            close(Ref.d(g.get(c + ".B")), ab[1], 0);
            double[][] zoh = Lmu.discretise(d, theta);
            close(Ref.d(g.get(c + ".Abar")), zoh[0], 1e-12);
            close(Ref.d(g.get(c + ".Bbar")), zoh[1], 1e-12);
            cases++;
        }
        assertEquals(4, cases);
    }

    @Test
    void documentIdsRestartTheMemory() {
        for (boolean feedback : new boolean[] {false, true}) {
            LruTest.restartsAtDocuments(lmu(4, 4, 6, 2, feedback, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}},
                    "mixer lmu");
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Lmu m = lmu(3, 3, 4, 2, false, 7);
        Variable x = Variable.of(Ref.randn(8, 1, 2, 6, 3), true);
        LruTest.gradientsMatch(m, x);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(x);
        ParamGradCheck.check(() -> m.recurrence(x), leaves);
        Variable x2 = Variable.of(Ref.randn(9, 1, 2, 6, 2), true);
        LruTest.gradientsMatch(lmu(2, 2, 4, 1, true, 8), x2);
    }

    @Test
    void optionsAndErrors() {
        assertEquals(new Lmu.Options(8, 16, 4, false), MixerKind.LMU.defaultOptions());
        assertEquals(MixerKind.LMU, MixerKind.parse("lmu"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.LMU.options(Map.of("state", "3")));
        assertEquals("mixer lmu: unknown option 'state' (options: order, theta, units, feedback)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.LMU.options(Map.of("theta", "0")));
        assertEquals("mixer lmu: need order >= 1, theta > 0 and units >= 1, got order=8 theta=0.0 units=4", w.getMessage());
    }
}
