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
import org.junit.jupiter.api.Test;

class S5Test {

    private static S5 s5(int h, int p, long seed) {
        S5 m = new S5(h, new S5.Options(p, 0.01, 0.5), DType.F64, new Generator(seed));
        // eigenvalues off the S4D-Lin grid, one of them unstable so the clip to -1e-4 is exercised
        Tensor re = Ref.randn(seed + 98, 0.4, p).abs().neg();
        re.set(0.3, 0);
        m.stateDict().get("Lambda_re").copyFromInPlace(re);
        m.stateDict().get("Lambda_im").copyFromInPlace(Ref.randn(seed + 99, 2, p));
        return m;
    }

    /** The paper's recurrence with plain complex arithmetic in doubles, from the module's parameters. */
    static double[] naive(S5 m, double[] u, int b, int t, int h) {
        Map<String, Tensor> q = m.stateDict();
        double[] lr = Ref.p(q, "Lambda_re");
        double[] li = Ref.p(q, "Lambda_im");
        double[] bb = Ref.p(q, "B");
        double[] cc = Ref.p(q, "C");
        double[] dd = Ref.p(q, "D");
        double[] step = Ref.p(q, "log_step");
        int p = lr.length;
        double[] y = new double[b * t * h];
        for (int r = 0; r < b; r++) {
            double[] xr = new double[p];
            double[] xi = new double[p];
            for (int s = 0; s < t; s++) {
                int row = (r * t + s) * h;
                for (int k = 0; k < p; k++) {
                    double ar = Math.min(lr[k], -1e-4);
                    double ai = li[k];
                    double dt = Math.exp(step[k]);
                    double mr = Math.exp(ar * dt) * Math.cos(ai * dt); // Λ̄
                    double mi = Math.exp(ar * dt) * Math.sin(ai * dt);
                    double den = ar * ar + ai * ai; // (Λ̄ − 1) / Λ
                    double fr = ((mr - 1) * ar + mi * ai) / den;
                    double fi = (mi * ar - (mr - 1) * ai) / den;
                    double ur = 0;
                    double ui = 0;
                    for (int j = 0; j < h; j++) {
                        ur += bb[(k * h + j) * 2] * u[row + j];
                        ui += bb[(k * h + j) * 2 + 1] * u[row + j];
                    }
                    double nr = mr * xr[k] - mi * xi[k] + fr * ur - fi * ui;
                    double ni = mr * xi[k] + mi * xr[k] + fr * ui + fi * ur;
                    xr[k] = nr;
                    xi[k] = ni;
                }
                for (int o = 0; o < h; o++) {
                    double s2 = dd[o] * u[row + o];
                    for (int k = 0; k < p; k++) {
                        s2 += 2 * (cc[(o * p + k) * 2] * xr[k] - cc[(o * p + k) * 2 + 1] * xi[k]);
                    }
                    y[row + o] = s2;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void parallelScanMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 19) int t, @ForAll @IntRange(min = 1, max = 5) int h, @ForAll @IntRange(min = 1, max = 6) int p) {
        S5 m = s5(h, p, seed);
        Tensor u = Ref.randn(seed + 1, 1, b, t, h);
        close(naive(m, Ref.d(u), b, t, h), Ref.d(m.forward(Variable.constant(u), null, null).data()), 1e-10);
    }

    @Test
    void parallelScanEqualsSequentialRecurrenceAndChunkedDecoding() {
        S5 m = s5(6, 5, 3);
        Tensor u = Ref.randn(4, 1, 2, 23, 6);
        double[] full = Ref.d(m.forward(Variable.constant(u), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(u)).data()), full, 1e-12);
        MixerForms.decodesLikeFull(m, u, full, 1e-12, state -> {
            assertEquals(2, state.tensors().length, "the state is x as real and imaginary parts");
            assertArrayEquals(new int[] {2, 1, 5}, state.tensors()[0].shape(), "O(1): x is (B, 1, P)");
        });
    }

    @Test
    void documentIdsRestartTheRecurrence() {
        LruTest.restartsAtDocuments(s5(4, 3, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer s5");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        S5 m = s5(3, 4, 7);
        m.stateDict().get("Lambda_re").set(-0.2, 0); // away from the clip's kink, where the derivative has a jump
        Variable u = Variable.of(Ref.randn(8, 1, 2, 6, 3), true);
        LruTest.gradientsMatch(m, u);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(u);
        ParamGradCheck.check(() -> m.recurrence(u), leaves);
    }

    @Test
    void initialisationOptionsAndErrors() {
        S5 m = new S5(3, new S5.Options(0, 0.001, 0.1), DType.F64, new Generator(1));
        assertEquals(3, m.stateSize(), "state 0 means the model width");
        assertArrayEquals(new double[] {-0.5, -0.5, -0.5}, Ref.p(m.stateDict(), "Lambda_re"));
        assertArrayEquals(new double[] {0, Math.PI, 2 * Math.PI}, Ref.p(m.stateDict(), "Lambda_im"), 1e-15);
        assertEquals(new S5.Options(0, 0.001, 0.1), MixerKind.S5.defaultOptions());
        assertEquals(MixerKind.S5, MixerKind.parse("s5"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.S5.options(Map.of("heads", "3")));
        assertEquals("mixer s5: unknown option 'heads' (options: state, dt_min, dt_max)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.S5.options(Map.of("dt_min", "0.5")));
        assertEquals("mixer s5: need state >= 0 and 0 < dt_min <= dt_max, got state=0 dt_min=0.5 dt_max=0.1", w.getMessage());
    }
}
