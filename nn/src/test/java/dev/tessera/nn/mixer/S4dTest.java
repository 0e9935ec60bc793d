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
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;

class S4dTest {

    private static S4d s4d(int h, int n, long seed) {
        S4d m = new S4d(h, new S4d.Options(n, 0.01, 0.5), DType.F64, new Generator(seed));
        // A off the S4D-Lin grid, so the test sees the real and imaginary parts of A each used in its own place
        m.stateDict().get("log_A_real").copyFromInPlace(Ref.randn(seed + 98, 0.3, h, n / 2));
        m.stateDict().get("A_imag").copyFromInPlace(Ref.randn(seed + 99, 2, h, n / 2));
        return m;
    }

    /**
     * The diagonal SSM alone, y + D ⊙ u (B, T, H) for u (B, T, H), from the S4D parameters in {@code p} ({@code log_dt},
     * {@code log_A_real}, {@code A_imag}, {@code C}, {@code D}): zero-order hold and the recurrence in plain complex doubles.
     */
    static double[] naiveSsm(Map<String, Tensor> p, double[] u, int b, int t, int h) {
        double[] logDt = Ref.p(p, "log_dt");
        double[] logA = Ref.p(p, "log_A_real");
        double[] aIm = Ref.p(p, "A_imag");
        double[] cc = Ref.p(p, "C");
        double[] dd = Ref.p(p, "D");
        int n = logA.length / h;
        double[] z = new double[b * t * h];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < h; i++) {
                double[] xr = new double[n];
                double[] xi = new double[n];
                for (int s = 0; s < t; s++) {
                    double us = u[(r * t + s) * h + i];
                    double y = 0;
                    for (int k = 0; k < n; k++) {
                        double ar = -Math.exp(logA[i * n + k]);
                        double ai = aIm[i * n + k];
                        double dt = Math.exp(logDt[i]);
                        double br = Math.exp(ar * dt) * Math.cos(ai * dt); // Ā
                        double bi = Math.exp(ar * dt) * Math.sin(ai * dt);
                        double den = ar * ar + ai * ai; // B̄ = (Ā − 1) / A
                        double fr = ((br - 1) * ar + bi * ai) / den;
                        double fi = (bi * ar - (br - 1) * ai) / den;
                        double nr = br * xr[k] - bi * xi[k] + fr * us;
                        double ni = br * xi[k] + bi * xr[k] + fi * us;
                        xr[k] = nr;
                        xi[k] = ni;
                        y += 2 * (cc[(i * n + k) * 2] * nr - cc[(i * n + k) * 2 + 1] * ni);
                    }
                    z[(r * t + s) * h + i] = y + dd[i] * us;
                }
            }
        }
        return z;
    }

    /** The recurrence of the paper with plain complex arithmetic in doubles, then the module's GELU and GLU. */
    static double[] naive(S4d m, double[] u, int b, int t, int h) {
        Map<String, Tensor> p = m.stateDict();
        double[] z = naiveSsm(p, u, b, t, h);
        for (int i = 0; i < z.length; i++) {
            z[i] = 0.5 * z[i] * (1 + Erf.erf(z[i] / Math.sqrt(2)));
        }
        double[] lin = Ref.linear(z, b * t, h, Ref.p(p, "output_linear.weight"), Ref.p(p, "output_linear.bias"), 2 * h);
        double[] out = new double[b * t * h];
        for (int row = 0; row < b * t; row++) {
            for (int o = 0; o < h; o++) {
                out[row * h + o] = lin[row * 2 * h + o] / (1 + Math.exp(-lin[row * 2 * h + h + o]));
            }
        }
        return out;
    }

    @Property(tries = 30)
    void convolutionMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 19) int t, @ForAll @IntRange(min = 1, max = 4) int h,
            @ForAll @IntRange(min = 1, max = 4) int modes) {
        S4d m = s4d(h, 2 * modes, seed);
        Tensor u = Ref.randn(seed + 1, 1, b, t, h);
        double[] want = naive(m, Ref.d(u), b, t, h);
        close(want, Ref.d(m.forward(Variable.constant(u), null, null).data()), 1e-9);
        close(want, Ref.d(m.recurrence(Variable.constant(u)).data()), 1e-10);
    }

    @Test
    void convolutionViewEqualsRecurrentViewAndChunkedDecoding() {
        S4d m = s4d(5, 8, 3);
        Tensor u = Ref.randn(4, 1, 2, 23, 5);
        double[] conv = Ref.d(m.forward(Variable.constant(u), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(u)).data()), conv, 1e-10);
        MixerForms.decodesLikeFull(m, u, conv, 1e-10, state -> {
            assertEquals(2, state.tensors().length, "the state is x as real and imaginary parts");
            assertArrayEquals(new int[] {2, 1, 5, 4}, state.tensors()[0].shape(), "O(1): x is (B, 1, H, N/2)");
        });
    }

    /** The kernel's first taps, K_l = 2·Re(Σ_n C_n B̄_n Ā_n^l), from the definition in doubles. */
    @Test
    void kernelIsTheVandermondeProduct() {
        S4d m = s4d(2, 4, 5);
        double[] k = Ref.d(m.kernel(6).data());
        // the impulse response of the recurrence is the kernel: feed u = δ_0 through the naive SSM per channel
        Map<String, Tensor> p = m.stateDict();
        double[] logDt = Ref.p(p, "log_dt");
        double[] logA = Ref.p(p, "log_A_real");
        double[] aIm = Ref.p(p, "A_imag");
        double[] cc = Ref.p(p, "C");
        for (int i = 0; i < 2; i++) {
            for (int l = 0; l < 6; l++) {
                double want = 0;
                for (int n = 0; n < 2; n++) {
                    double ar = -Math.exp(logA[i * 2 + n]);
                    double ai = aIm[i * 2 + n];
                    double dt = Math.exp(logDt[i]);
                    double mr = Math.exp(ar * dt) * Math.cos(ai * dt);
                    double mi = Math.exp(ar * dt) * Math.sin(ai * dt);
                    double den = ar * ar + ai * ai;
                    double fr = ((mr - 1) * ar + mi * ai) / den;
                    double fi = (mi * ar - (mr - 1) * ai) / den;
                    double pr = Math.exp(ar * dt * l) * Math.cos(ai * dt * l);
                    double pi = Math.exp(ar * dt * l) * Math.sin(ai * dt * l);
                    double gr = fr * pr - fi * pi;
                    double gi = fr * pi + fi * pr;
                    want += 2 * (cc[(i * 2 + n) * 2] * gr - cc[(i * 2 + n) * 2 + 1] * gi);
                }
                assertEquals(want, k[i * 6 + l], 1e-12, "K[" + i + ", " + l + "]");
            }
        }
    }

    @Test
    void documentIdsRestartTheRecurrence() {
        LruTest.restartsAtDocuments(s4d(4, 6, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer s4d");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        S4d m = s4d(2, 4, 7);
        Variable u = Variable.of(Ref.randn(8, 1, 2, 6, 2), true);
        LruTest.gradientsMatch(m, u); // the convolution view, and the scan view with packed documents
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(u);
        ParamGradCheck.check(() -> m.recurrence(u), leaves);
    }

    @Test
    void s4dLinInitialisationOptionsAndErrors() {
        S4d m = new S4d(3, new S4d.Options(6, 0.001, 0.1), DType.F64, new Generator(1));
        assertEquals(3, m.modes());
        assertArrayEquals(new double[] {0, Math.PI, 2 * Math.PI, 0, Math.PI, 2 * Math.PI, 0, Math.PI, 2 * Math.PI},
                Ref.p(m.stateDict(), "A_imag"), 1e-15, "A_n = -1/2 + i pi n");
        for (double a : Ref.p(m.stateDict(), "log_A_real")) {
            assertEquals(Math.log(0.5), a, 1e-15);
        }
        for (double dt : Ref.p(m.stateDict(), "log_dt")) {
            assertEquals(true, dt >= Math.log(0.001) && dt <= Math.log(0.1), "log_dt " + dt);
        }
        assertEquals(new S4d.Options(64, 0.001, 0.1), MixerKind.S4D.defaultOptions());
        assertEquals(MixerKind.S4D, MixerKind.parse("s4d"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.S4D.options(Map.of("heads", "3")));
        assertEquals("mixer s4d: unknown option 'heads' (options: state, dt_min, dt_max)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.S4D.options(Map.of("state", "5")));
        assertEquals("mixer s4d: need an even state >= 2 and 0 < dt_min <= dt_max, got state=5 dt_min=0.001 dt_max=0.1", w.getMessage());
        var x = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Ref.randn(1, 1, 2, 4, 5)), null, null));
        assertEquals("mixer s4d: input must be (B, T, 3) with T >= 1, got [2, 4, 5]", x.getMessage());
    }
}
