package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

class HyenaTest {

    static Hyena hyena(int c, Hyena.Options o, long seed) {
        Hyena m = new Hyena(c, o, DType.F64, new Generator(seed));
        // nonzero biases, skips and frequencies away from 1, so the test sees each used in its place
        long s = seed;
        for (var e : new java.util.TreeMap<>(m.stateDict()).entrySet()) {
            if (e.getKey().endsWith("bias") || e.getKey().equals("D") || e.getKey().startsWith("filter.freq")) {
                e.getValue().copyFromInPlace(Ref.randn(++s + 100, 0.5, e.getValue().shape()).add(e.getKey().startsWith("filter.freq") ? 1 : 0));
            }
        }
        return m;
    }

    static Hyena.Options options(int order, int length, int emb, int depth, boolean sin, boolean decay) {
        return new Hyena.Options(order, length, emb, 5, depth, sin ? Hyena.Activation.SIN : Hyena.Activation.RELU, decay);
    }

    /** Definition 3.1 with the implicit filters, as plain loops in doubles from the module's parameters. */
    static double[] naive(Hyena m, Hyena.Options o, double[] u, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        int n = o.order();
        int w = (n + 1) * c;
        // filters h[ch][j], ch < N·C, j < min(T, L)
        int taps = Math.min(t, o.length());
        int bands = (o.emb() - 1) / 2;
        double[][] h = new double[n * c][taps];
        for (int j = 0; j < taps; j++) {
            double[] pe = new double[o.emb()];
            int l = o.length();
            pe[0] = l == 1 ? 0 : j / (double) (l - 1);
            for (int q = 0; q < bands; q++) {
                double f = bands == 1 ? 1e-4 : 1e-4 + (bands - 1 - 1e-4) * q / (bands - 1);
                pe[1 + q] = Math.cos(f * 2 * Math.PI * j / l);
                pe[1 + bands + q] = -Math.sin(f * 2 * Math.PI * j / l);
            }
            double[] a = act(o, p, 0, Ref.linear(pe, 1, o.emb(), Ref.p(p, "filter.in.weight"), Ref.p(p, "filter.in.bias"), o.hidden()));
            for (int i = 0; i < o.depth(); i++) {
                a = act(o, p, i + 1, Ref.linear(a, 1, o.hidden(), Ref.p(p, "filter.hidden" + i + ".weight"),
                        Ref.p(p, "filter.hidden" + i + ".bias"), o.hidden()));
            }
            double[] k = Ref.linear(a, 1, o.hidden(), Ref.p(p, "filter.out.weight"), Ref.p(p, "filter.out.bias"), n * c);
            for (int ch = 0; ch < n * c; ch++) {
                double fast = Math.log(100) / 0.3;
                double alpha = n * c == 1 ? fast : fast + (Math.log(100) / 1.5 - fast) * ch / (n * c - 1);
                h[ch][j] = k[ch] * (o.decay() ? Math.exp(-alpha * (l == 1 ? 0 : j / (double) (l - 1))) : 1);
            }
        }
        double[] proj = Ref.linear(u, b * t, c, Ref.p(p, "in_proj.weight"), Ref.p(p, "in_proj.bias"), w);
        double[] sw = Ref.p(p, "short_conv.weight");
        double[] sb = Ref.p(p, "short_conv.bias");
        double[] s = new double[b * t * w];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int ch = 0; ch < w; ch++) {
                    double acc = sb[ch];
                    for (int j = 0; j < 3 && j <= i; j++) {
                        acc += sw[ch * 3 + j] * proj[(r * t + i - j) * w + ch];
                    }
                    s[(r * t + i) * w + ch] = acc;
                }
            }
        }
        double[] d = Ref.p(p, "D");
        double[] z = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int ch = 0; ch < c; ch++) {
                    z[(r * t + i) * c + ch] = s[(r * t + i) * w + n * c + ch];
                }
            }
        }
        for (int q = 0; q < n; q++) {
            double[] next = new double[z.length];
            for (int r = 0; r < b; r++) {
                for (int i = 0; i < t; i++) {
                    for (int ch = 0; ch < c; ch++) {
                        double conv = d[q * c + ch] * z[(r * t + i) * c + ch];
                        for (int j = 0; j < taps && j <= i; j++) {
                            conv += h[q * c + ch][j] * z[(r * t + i - j) * c + ch];
                        }
                        next[(r * t + i) * c + ch] = s[(r * t + i) * w + q * c + ch] * conv;
                    }
                }
            }
            z = next;
        }
        return Ref.linear(z, b * t, c, Ref.p(p, "out_proj.weight"), Ref.p(p, "out_proj.bias"), c);
    }

    private static double[] act(Hyena.Options o, Map<String, Tensor> p, int layer, double[] a) {
        double[] f = o.activation() == Hyena.Activation.SIN ? Ref.p(p, "filter.freq" + layer) : null;
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = f == null ? Math.max(a[i], 0) : Math.sin(f[i] * a[i]);
        }
        return out;
    }

    @Property(tries = 12)
    void matchesNaiveRecursion(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 40) int t,
            @ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 1, max = 3) int order, @ForAll @IntRange(min = 1, max = 70) int length,
            @ForAll @IntRange(min = 1, max = 2) int bands, @ForAll @IntRange(min = 0, max = 2) int depth, @ForAll boolean sin, @ForAll boolean decay) {
        Hyena.Options o = options(order, length, 2 * bands + 1, depth, sin, decay);
        Hyena m = hyena(c, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, o, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-9);
    }

    /** Convolution view == decoding from the held inputs: token by token and in chunks, filters shorter and longer than T. */
    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        for (int length : new int[] {4, 60}) {
            Hyena m = hyena(3, options(2, length, 5, 1, true, true), 3);
            Tensor x = Ref.randn(4, 1, 2, 23, 3);
            double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
            int[] tokenByToken = new int[23];
            java.util.Arrays.fill(tokenByToken, 1);
            for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
                close(full, LruTest.decodeInChunks(m, x, chunks, state -> {
                    assertEquals(3, state.tensors().length, "the short conv's inputs and each order's");
                    assertTrue(state.tensors()[0].size(1) <= 3 && state.tensors()[1].size(1) <= length);
                }), 1e-11);
            }
        }
    }

    @Test
    void documentIdsRestartEveryConvolution() {
        LruTest.restartsAtDocuments(hyena(4, options(2, 9, 3, 1, true, true), 11), Ref.randn(12, 1, 2, 17, 4),
                new int[][] {{0, 1, 6, 7, 13}, {0, 9}}, "mixer hyena");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(hyena(2, options(2, 8, 3, 1, true, true), 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new Hyena.Options(2, 1024, 3, 16, 2, Hyena.Activation.SIN, true), MixerKind.HYENA.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.HYENA.options(Map.of("emb", "4")));
        assertEquals("mixer hyena: need order >= 1, length >= 1, odd emb >= 3, hidden >= 1 and depth >= 0, got order=2 length=1024 emb=4"
                + " hidden=16 depth=2", o.getMessage());
        var a = assertThrows(IllegalArgumentException.class, () -> MixerKind.HYENA.options(Map.of("activation", "gelu")));
        assertEquals("mixer hyena: option activation must be one of sin, relu, got 'gelu'", a.getMessage());
        assertEquals(java.util.Set.of("in_proj.weight", "in_proj.bias", "short_conv.weight", "short_conv.bias", "filter.in.weight",
                "filter.in.bias", "filter.out.weight", "filter.out.bias", "D", "out_proj.weight", "out_proj.bias"),
                hyena(4, options(1, 6, 3, 0, false, false), 1).stateDict().keySet(), "relu, depth 0: no frequencies, no hidden layers");
    }
}
