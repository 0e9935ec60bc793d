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

class LongConvTest {

    static LongConv conv(int c, int length, double lambda, int smooth, long seed) {
        LongConv m = new LongConv(c, new LongConv.Options(length, lambda, smooth), DType.F64, new Generator(seed));
        // a filter of size comparable to λ, so squash zeroes some taps and keeps others; D away from 1
        m.stateDict().get("filter").copyFromInPlace(Ref.randn(seed + 5, 0.3, c, length));
        m.stateDict().get("D").copyFromInPlace(Ref.randn(seed + 6, 1, c));
        return m;
    }

    /** The paper's smooth, squash and causal convolution as plain loops in doubles, from the module's parameters. */
    static double[] naive(LongConv m, LongConv.Options o, double[] x, int b, int t, int c) {
        double[] f = Ref.p(m.stateDict(), "filter");
        double[] dd = Ref.p(m.stateDict(), "D");
        int k = o.length();
        int p = o.smooth();
        double[] kern = new double[c * k];
        for (int ch = 0; ch < c; ch++) {
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int i = j - p; i <= j + p; i++) {
                    s += i >= 0 && i < k ? f[ch * k + i] : 0;
                }
                s /= 2 * p + 1;
                kern[ch * k + j] = Math.signum(s) * Math.max(Math.abs(s) - o.lambda(), 0);
            }
        }
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                for (int ch = 0; ch < c; ch++) {
                    double acc = dd[ch] * x[(r * t + s) * c + ch];
                    for (int j = 0; j < k && j <= s; j++) {
                        acc += kern[ch * k + j] * x[(r * t + s - j) * c + ch];
                    }
                    y[(r * t + s) * c + ch] = acc;
                }
            }
        }
        return y;
    }

    @Property(tries = 40)
    void matchesNaiveConvolution(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 70) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 80) int length,
            @ForAll @IntRange(min = 0, max = 3) int smooth, @ForAll boolean squash) {
        LongConv.Options o = new LongConv.Options(length, squash ? 0.1 : 0, smooth);
        LongConv m = conv(c, length, o.lambda(), smooth, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, o, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    /** Convolution view == decoding: token by token (window sums) and in chunks (FFT over the held window), short and long kernels. */
    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        for (int length : new int[] {1, 5, 70}) {
            LongConv m = conv(4, length, 0.05, 1, 3);
            Tensor x = Ref.randn(4, 1, 2, 23, 4);
            double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
            int[] tokenByToken = new int[23];
            java.util.Arrays.fill(tokenByToken, 1);
            for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
                int[] at = {0};
                int[] sizes = chunks;
                int[] i = {0};
                close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                    at[0] += sizes[i[0]++];
                    assertArrayEquals(new int[] {2, Math.min(length, at[0]), 4}, state.tensors()[0].shape(), "the last min(K, t) inputs");
                }), 1e-12);
            }
        }
    }

    @Test
    void documentIdsRestartTheConvolution() {
        LruTest.restartsAtDocuments(conv(4, 9, 0.05, 1, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}},
                "mixer long_conv");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        // λ small against the filter values, so no tap sits within the finite-difference step of the threshold's kinks
        LruTest.gradientsMatch(conv(3, 8, 0.01, 1, 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new LongConv.Options(1024, 0.001, 1), MixerKind.LONG_CONV.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.LONG_CONV.options(Map.of("len", "3")));
        assertEquals("mixer long_conv: unknown option 'len' (options: length, lambda, smooth)", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> MixerKind.LONG_CONV.options(Map.of("lambda", "-1")));
        assertEquals("mixer long_conv: need length >= 1, lambda >= 0 and smooth >= 0, got length=1024 lambda=-1.0 smooth=1", w.getMessage());
        assertEquals(java.util.Set.of("filter", "D"), conv(4, 6, 0, 0, 1).stateDict().keySet());
        var x = assertThrows(IllegalArgumentException.class, () -> conv(4, 6, 0, 0, 1).forward(Variable.constant(Tensor.zeros(DType.F64, 1, 3, 5)), null, null));
        assertEquals("mixer long_conv: input must be (B, T, 4) with T >= 1, got [1, 3, 5]", x.getMessage());
    }
}
