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

class SgConvTest {

    static SgConv sg(int c, SgConv.Options o, long seed) {
        SgConv m = new SgConv(c, o, DType.F64, new Generator(seed));
        m.stateDict().get("D").copyFromInPlace(Ref.randn(seed + 6, 1, c)); // D away from 1
        return m;
    }

    /** Linear interpolation at (j + 0.5)/r − 0.5 (PyTorch's align_corners=False), clamped to the ends. */
    static double upsampled(double[] w, int off, int n, int r, int j) {
        double src = Math.max((j + 0.5) / r - 0.5, 0);
        int lo = Math.min((int) src, n - 1);
        int hi = Math.min(lo + 1, n - 1);
        return w[off + lo] * (1 - (src - lo)) + w[off + hi] * (src - lo);
    }

    /** The kernel built scale by scale, normalised by the stored Z, then the causal convolution and skip, as loops in doubles. */
    static double[] naive(SgConv m, SgConv.Options o, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        double[] z = Ref.p(p, "kernel_norm");
        double[] dd = Ref.p(p, "D");
        int d = o.size();
        double[][] k = new double[c][o.length()];
        for (int ch = 0; ch < c; ch++) {
            int at = 0;
            for (int i = 0; at < o.length(); i++) {
                double[] w = Ref.p(p, "kernel_" + i);
                int r = 1 << Math.max(i - 1, 0);
                for (int j = 0; j < r * d && at < o.length(); j++) {
                    k[ch][at++] = Math.pow(o.alpha(), i) * upsampled(w, ch * d, d, r, j) / z[ch];
                }
            }
        }
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                for (int ch = 0; ch < c; ch++) {
                    double acc = dd[ch] * x[(r * t + s) * c + ch];
                    for (int j = 0; j < o.length() && j <= s; j++) {
                        acc += k[ch][j] * x[(r * t + s - j) * c + ch];
                    }
                    y[(r * t + s) * c + ch] = acc;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesNaiveConvolution(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 70) int t,
            @ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 1, max = 90) int length, @ForAll @IntRange(min = 1, max = 6) int size,
            @ForAll @IntRange(min = 1, max = 10) int alphaTenths) {
        SgConv.Options o = new SgConv.Options(length, size, alphaTenths / 10.0);
        SgConv m = sg(c, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, o, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    /** At initialisation each channel's kernel has unit L2 norm (Z is that norm), and the scales cover L with ⌈log₂(L/d)⌉ + 1 sub-kernels. */
    @Test
    void normalisedAtInitAndScalesCoverTheLength() {
        SgConv m = sg(3, new SgConv.Options(100, 8, 0.5), 2);
        double[] k = Ref.d(m.kernel().data());
        assertEquals(300, k.length);
        for (int ch = 0; ch < 3; ch++) {
            double s = 0;
            for (int j = 0; j < 100; j++) {
                s += k[ch * 100 + j] * k[ch * 100 + j];
            }
            assertEquals(1, s, 1e-12);
        }
        assertEquals(1 + 4, m.stateDict().keySet().stream().filter(n -> n.startsWith("kernel_") && !n.equals("kernel_norm")).count(),
                "8 + 8 + 16 + 32 + 64 >= 100");
        assertEquals(1, SgConv.scales(5, 8));
        assertEquals(2, SgConv.scales(16, 8));
        assertEquals(3, SgConv.scales(17, 8));
    }

    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        SgConv m = sg(4, new SgConv.Options(12, 3, 0.7), 3);
        Tensor x = Ref.randn(4, 1, 2, 23, 4);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] tokenByToken = new int[23];
        java.util.Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
            close(full, LruTest.decodeInChunks(m, x, chunks, state -> assertEquals(2, state.tensors()[0].size(0))), 1e-12);
        }
        int[] at = {0};
        LruTest.decodeInChunks(m, x, tokenByToken, state -> assertArrayEquals(new int[] {2, Math.min(12, ++at[0]), 4},
                state.tensors()[0].shape(), "the last min(L, t) inputs"));
    }

    @Test
    void documentIdsRestartTheConvolution() {
        LruTest.restartsAtDocuments(sg(4, new SgConv.Options(9, 2, 0.5), 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}},
                "mixer sgconv");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(sg(3, new SgConv.Options(8, 2, 0.5), 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new SgConv.Options(1024, 32, 0.5), MixerKind.SGCONV.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.SGCONV.options(Map.of("alpha", "1.5")));
        assertEquals("mixer sgconv: need length >= 1, size >= 1 and 0 < alpha <= 1, got length=1024 size=32 alpha=1.5", o.getMessage());
        var u = assertThrows(IllegalArgumentException.class, () -> MixerKind.SGCONV.options(Map.of("decay", "1")));
        assertEquals("mixer sgconv: unknown option 'decay' (options: length, size, alpha)", u.getMessage());
    }
}
