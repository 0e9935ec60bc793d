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

class H3Test {

    private static H3 h3(int h, int n, int w, long seed) {
        H3 m = new H3(h, new H3.Options(n, w, 0.01, 0.5), DType.F64, new Generator(seed));
        // A off the S4D-Lin grid, so the test sees the real and imaginary parts of A each used in its own place
        m.stateDict().get("log_A_real").copyFromInPlace(Ref.randn(seed + 98, 0.3, h, n / 2));
        m.stateDict().get("A_imag").copyFromInPlace(Ref.randn(seed + 99, 2, h, n / 2));
        return m;
    }

    /** Algorithm 1 of the paper (d_head = 1) in plain doubles: the shift register by its taps, then the complex diagonal recurrence. */
    static double[] naive(H3 m, double[] x, int b, int t, int h) {
        Map<String, Tensor> p = m.stateDict();
        double[] qkv = Ref.linear(x, b * t, h, Ref.p(p, "in_proj.weight"), Ref.p(p, "in_proj.bias"), 3 * h);
        double[] s = Ref.p(p, "shift_kernel");
        int w = s.length / h;
        double[] u = new double[b * t * h];
        for (int r = 0; r < b; r++) {
            for (int q = 0; q < t; q++) {
                for (int i = 0; i < h; i++) {
                    double kBar = 0;
                    for (int j = 0; j < w && j <= q; j++) {
                        kBar += s[i * w + j] * qkv[(r * t + q - j) * 3 * h + h + i];
                    }
                    u[(r * t + q) * h + i] = kBar * qkv[(r * t + q) * 3 * h + 2 * h + i];
                }
            }
        }
        double[] z = S4dTest.naiveSsm(p, u, b, t, h);
        double[] o = new double[b * t * h];
        for (int row = 0; row < b * t; row++) {
            for (int i = 0; i < h; i++) {
                o[row * h + i] = qkv[row * 3 * h + i] * z[row * h + i];
            }
        }
        return Ref.linear(o, b * t, h, Ref.p(p, "out_proj.weight"), Ref.p(p, "out_proj.bias"), h);
    }

    @Property(tries = 30)
    void scanMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 4) int h,
            @ForAll @IntRange(min = 1, max = 3) int modes, @ForAll @IntRange(min = 2, max = 5) int w) {
        H3 m = h3(h, 2 * modes, w, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, h);
        double[] want = naive(m, Ref.d(x), b, t, h);
        close(want, Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-9);
        close(want, Ref.d(m.recurrence(Variable.constant(x)).data()), 1e-10);
    }

    @Test
    void convolutionViewEqualsRecurrentViewAndChunkedDecoding() {
        H3 m = h3(5, 6, 4, 3);
        Tensor x = Ref.randn(4, 1, 2, 21, 5);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(x)).data()), full, 1e-10);
        MixerForms.decodesLikeFull(m, x, full, 1e-10, state -> {
            assertEquals(3, state.tensors().length, "x as real and imaginary parts, and the shift register");
            assertArrayEquals(new int[] {2, 1, 5, 3}, state.tensors()[0].shape(), "O(1): x is (B, 1, H, N/2)");
            assertArrayEquals(new int[] {2, 3, 5}, state.tensors()[2].shape(), "O(1): the last W - 1 keys");
        });
    }

    @Test
    void documentIdsRestartBothSsms() {
        LruTest.restartsAtDocuments(h3(4, 4, 3, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer h3");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        H3 m = h3(2, 4, 3, 7);
        Variable x = Variable.of(Ref.randn(8, 1, 2, 6, 2), true);
        LruTest.gradientsMatch(m, x); // the convolution view, and the scan view with packed documents
        java.util.List<Variable> leaves = new java.util.ArrayList<>(m.parameters());
        leaves.add(x);
        dev.tessera.nn.ParamGradCheck.check(() -> m.recurrence(x), leaves);
    }

    @Test
    void optionsAndErrors() {
        assertEquals(new H3.Options(16, 4, 0.001, 0.1), MixerKind.H3.defaultOptions());
        assertEquals(MixerKind.H3, MixerKind.parse("h3"));
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.H3.options(Map.of("heads", "3")));
        assertEquals("mixer h3: unknown option 'heads' (options: state, shift, dt_min, dt_max)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.H3.options(Map.of("shift", "1")));
        assertEquals("mixer h3: need an even state >= 2, shift >= 2 and 0 < dt_min <= dt_max, got state=16 shift=1 dt_min=0.001 dt_max=0.1",
                w.getMessage());
        H3 m = h3(3, 4, 2, 1);
        var x = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Ref.randn(1, 1, 2, 4, 5)), null, null));
        assertEquals("mixer h3: input must be (B, T, 3) with T >= 1, got [2, 4, 5]", x.getMessage());
    }
}
