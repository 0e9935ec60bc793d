package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RfwpTest {

    private static Rfwp rfwp(int c, int heads, long seed) {
        Rfwp m = new Rfwp(c, new Rfwp.Options(heads), DType.F64, new Generator(seed));
        // a recurrent weight as large as the slow net's, so the feedback of y_{t−1} matters to the outputs
        int d = c / heads;
        m.stateDict().get("recurrent").copyFromInPlace(Ref.randn(seed + 99, 1 / Math.sqrt(d), heads, d, 3 * d + 1));
        return m;
    }

    private static double[] softmax(double[] z, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, z[from + i]);
        }
        double[] p = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = Math.exp(z[from + i] - max);
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** The paper's recurrence in doubles: slow net on x_t plus each head's R on its tanh(y_{t−1}), delta rule per head, y_t = W_t φ(q_t), W_o. */
    static double[] naive(Rfwp m, double[] x, int b, int t, int c, int heads) {
        Map<String, Tensor> p = m.stateDict();
        double[] ws = Ref.p(p, "slow_net.weight");
        double[] wr = Ref.p(p, "recurrent"); // (H, D, 3D + 1)
        int d = c / heads;
        int rows = 3 * c + heads;
        double[] ys = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            double[][][] fast = new double[heads][d][d];
            double[] y = new double[c];
            for (int s = 0; s < t; s++) {
                double[] z = new double[rows];
                for (int o = 0; o < rows; o++) {
                    for (int i = 0; i < c; i++) {
                        z[o] += ws[o * c + i] * x[(r * t + s) * c + i];
                    }
                }
                for (int hd = 0; hd < heads; hd++) { // column j of head hd's R feeds q, k, v (j < 3D, part j / D) or β̃ (j = 3D)
                    for (int j = 0; j <= 3 * d; j++) {
                        double add = 0;
                        for (int i = 0; i < d; i++) {
                            add += Math.tanh(y[hd * d + i]) * wr[(hd * d + i) * (3 * d + 1) + j];
                        }
                        z[j == 3 * d ? 3 * c + hd : (j / d) * c + hd * d + j % d] += add;
                    }
                }
                double[] next = new double[c];
                for (int hd = 0; hd < heads; hd++) {
                    double[] q = softmax(z, hd * d, d);
                    double[] k = softmax(z, c + hd * d, d);
                    double beta = 1 / (1 + Math.exp(-z[3 * c + hd]));
                    for (int i = 0; i < d; i++) {
                        double old = 0;
                        for (int j = 0; j < d; j++) {
                            old += fast[hd][i][j] * k[j];
                        }
                        double delta = beta * (z[2 * c + hd * d + i] - old);
                        for (int j = 0; j < d; j++) {
                            fast[hd][i][j] += delta * k[j];
                        }
                    }
                    for (int i = 0; i < d; i++) {
                        for (int j = 0; j < d; j++) {
                            next[hd * d + i] += fast[hd][i][j] * q[j];
                        }
                    }
                }
                y = next;
                System.arraycopy(y, 0, ys, (r * t + s) * c, c);
            }
        }
        return Ref.linear(ys, b * t, c, Ref.p(p, "out_proj.weight"), null, c);
    }

    @Property(tries = 30)
    void loopMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 11) int t, @ForAll @IntRange(min = 1, max = 3) int heads,
            @ForAll @IntRange(min = 1, max = 3) int d) {
        int c = heads * d;
        Rfwp m = rfwp(c, heads, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, Ref.d(x), b, t, c, heads), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        Rfwp m = rfwp(6, 2, 3);
        Tensor x = Ref.randn(4, 1, 2, 19, 6);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        MixerForms.decodesLikeFull(m, x, full, 1e-12, state -> {
            assertArrayEquals(new int[] {2, 2, 3, 3}, state.tensors()[0].shape(), "O(1): W is (B, H, D, D)");
            assertArrayEquals(new int[] {2, 1, 6}, state.tensors()[1].shape(), "and y_{t-1} (B, 1, C)");
        });
    }

    /** The delta-rule recurrence against flash-linear-attention's delta_rule_recurrence (fixture: nn/tools/golden_e25_delta_rule.py). */
    @Test
    void deltaRuleMatchesFla() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e25/delta_rule.safetensors").toURI()));
        Variable q = Variable.of(g.get("q"), true);
        Variable k = Variable.of(g.get("k"), true);
        Variable v = Variable.of(g.get("v"), true);
        Variable beta = Variable.of(g.get("beta"), true);
        Variable out = Rfwp.deltaRule(q, k, v, beta);
        close(Ref.d(g.get("out")), Ref.d(out.data()), 1e-5);
        out.backward(g.get("grad_output"));
        close(Ref.d(g.get("grad.q")), Ref.d(q.grad()), 1e-5);
        close(Ref.d(g.get("grad.k")), Ref.d(k.grad()), 1e-5);
        close(Ref.d(g.get("grad.v")), Ref.d(v.grad()), 1e-5);
        close(Ref.d(g.get("grad.beta")), Ref.d(beta.grad()), 1e-5);
    }

    @Test
    void documentIdsRestartTheFastWeights() {
        LruTest.restartsAtDocuments(rfwp(4, 2, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer rfwp");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(rfwp(2, 1, 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true));
    }

    @Test
    void optionsAndErrors() {
        assertEquals(new Rfwp.Options(0), MixerKind.RFWP.defaultOptions());
        assertEquals(MixerKind.RFWP, MixerKind.parse("rfwp"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.RFWP.options(Map.of("state", "3")));
        assertEquals("mixer rfwp: unknown option 'state' (options: heads)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> new Rfwp(6, new Rfwp.Options(4), DType.F64, new Generator(1)));
        assertEquals("mixer rfwp: width 6 must be a positive multiple of heads 4", w.getMessage());
        assertEquals("Rfwp(C=32, H=4)", new Rfwp(32, new Rfwp.Options(0), DType.F64, new Generator(1)).toString(), "one head per 8 channels");
    }
}
