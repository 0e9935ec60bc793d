package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.AttentionReference;
import dev.tessera.nn.block.Hourglass.Options;
import dev.tessera.nn.block.Hourglass.Shortening;
import dev.tessera.nn.block.Hourglass.Upsampling;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** B27: the hourglass's shift, shortening, upsampling and residual against a double-loop reference; gradients; causality. */
class HourglassTest {

    /** A causal stand-in for a layer: x_t ← x_t + tanh(a·Σ_{s≤t} x_s), with a per-layer a. */
    static Variable layer(int l, Variable x) {
        return x.add(x.cumsum(1).mul(0.3 + 0.1 * l).tanh());
    }

    static double[][] layerRef(int l, double[][] x) {
        double[][] out = new double[x.length][];
        double[] sum = new double[x[0].length];
        for (int t = 0; t < x.length; t++) {
            out[t] = new double[sum.length];
            for (int c = 0; c < sum.length; c++) {
                sum[c] += x[t][c];
                out[t][c] = x[t][c] + Math.tanh((0.3 + 0.1 * l) * sum[c]);
            }
        }
        return out;
    }

    /** y = W·x + b for W (out, in) given row-major. */
    static double[] linear(double[] w, double[] bias, double[] x, int out) {
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double a = bias == null ? 0 : bias[o];
            for (int i = 0; i < x.length; i++) {
                a += w[o * x.length + i] * x[i];
            }
            y[o] = a;
        }
        return y;
    }

    /** The paper's recipe position by position in doubles, for one batch row x (T, C). */
    static double[][] reference(Hourglass hg, double[][] x) {
        Options o = hg.options();
        int k = o.factor();
        int t = x.length;
        int c = x[0].length;
        int l = 0;
        double[][] h = x;
        for (; l < o.preLayers(); l++) {
            h = layerRef(l, h);
        }
        int n = (t + k - 1) / k;
        double[][] s = new double[n][];
        for (int j = 0; j < n; j++) {
            double[] window = new double[k * c]; // shifted rows jk … jk + k − 1 = positions jk − k + 1 … jk
            for (int r = 0; r < k; r++) {
                int p = j * k + r - (k - 1);
                for (int d = 0; d < c; d++) {
                    window[r * c + d] = p >= 0 ? h[p][d] : 0;
                }
            }
            if (o.shortening() == Shortening.AVG) {
                s[j] = new double[c];
                for (int r = 0; r < k; r++) {
                    for (int d = 0; d < c; d++) {
                        s[j][d] += window[r * c + d] / k;
                    }
                }
            } else {
                s[j] = linear(param(hg, "down_proj.weight"), param(hg, "down_proj.bias"), window, c);
            }
        }
        for (; l < o.preLayers() + o.shortenedLayers(); l++) {
            s = layerRef(l, s);
        }
        double[][] y = new double[t][];
        for (int p = 0; p < t; p++) {
            int j = p / k;
            int r = p % k;
            double[] up = o.upsampling() == Upsampling.REPEAT ? s[j]
                    : java.util.Arrays.copyOfRange(linear(param(hg, "up_proj.weight"), param(hg, "up_proj.bias"), s[j], k * c), r * c, (r + 1) * c);
            y[p] = new double[c];
            for (int d = 0; d < c; d++) {
                y[p][d] = h[p][d] + up[d];
            }
        }
        for (; l < o.layers(); l++) {
            y = layerRef(l, y);
        }
        return y;
    }

    static double[] param(Hourglass hg, String name) {
        Variable v = hg.namedParameters().get(name);
        return v == null ? null : v.data().toDoubleArray();
    }

    static Hourglass hourglass(Options o, int c, long seed, DType dtype) {
        Hourglass hg = new Hourglass(o, c, true, new Generator(seed), dtype);
        hg.namedParameters().forEach((name, p) -> p.data().copyFromInPlace(AttentionReference.randn(seed + name.length(), 0.4, p.shape())
                .to(dtype)));
        return hg;
    }

    static Variable run(Hourglass hg, Variable x) {
        return hg.forward(x, (l, h, m, cache) -> layer(l, h), AttentionMask.causalOnly(), null, 0);
    }

    @Property(tries = 40)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 2, max = 4) int k, @ForAll @IntRange(min = 1, max = 11) int t,
            @ForAll @IntRange(min = 0, max = 2) int pre, @ForAll @IntRange(min = 1, max = 2) int mid, @ForAll @IntRange(min = 0, max = 1) int post,
            @ForAll boolean linearDown, @ForAll boolean linearUp, @ForAll @IntRange(min = 0, max = 1000) int seed) {
        int b = 2;
        int c = 3;
        Options o = new Options(pre, mid, post, k, linearDown ? Shortening.LINEAR : Shortening.AVG,
                linearUp ? Upsampling.LINEAR : Upsampling.REPEAT);
        Hourglass hg = hourglass(o, c, seed, DType.F32);
        Tensor x = AttentionReference.randn(seed + 7, 1, b, t, c).to(DType.F32);
        Tensor got = run(hg, Variable.constant(x)).data();
        assertArrayEquals(new int[] {b, t, c}, got.shape());
        double[] xs = x.toDoubleArray();
        double[] gs = got.toDoubleArray();
        for (int bb = 0; bb < b; bb++) {
            double[][] rows = new double[t][c];
            for (int p = 0; p < t; p++) {
                for (int d = 0; d < c; d++) {
                    rows[p][d] = xs[(bb * t + p) * c + d];
                }
            }
            double[][] want = reference(hg, rows);
            for (int p = 0; p < t; p++) {
                for (int d = 0; d < c; d++) {
                    double g = gs[(bb * t + p) * c + d];
                    assertEquals(want[p][d], g, 1e-4 * (1 + Math.abs(want[p][d])), o + " T=" + t + " at (" + bb + ", " + p + ", " + d + ")");
                }
            }
        }
    }

    @Property(tries = 30)
    void changingTokenTNeverChangesEarlierOutputs(@ForAll @IntRange(min = 2, max = 4) int k, @ForAll @IntRange(min = 2, max = 12) int t,
            @ForAll @IntRange(min = 0, max = 11) int at, @ForAll boolean linear, @ForAll @IntRange(min = 0, max = 1000) int seed) {
        int pos = at % t;
        int c = 3;
        Options o = new Options(1, 1, 1, k, linear ? Shortening.LINEAR : Shortening.AVG, linear ? Upsampling.LINEAR : Upsampling.REPEAT);
        Hourglass hg = hourglass(o, c, seed, DType.F64);
        Tensor x = AttentionReference.randn(seed + 3, 1, 1, t, c);
        Tensor changed = x.copy();
        changed.narrow(1, pos, 1).copyFromInPlace(AttentionReference.randn(seed + 4, 1, 1, 1, c));
        Tensor a = run(hg, Variable.constant(x)).data();
        Tensor z = run(hg, Variable.constant(changed)).data();
        for (int p = 0; p < t; p++) {
            double diff = 0;
            for (int d = 0; d < c; d++) {
                diff = Math.max(diff, Math.abs(a.getDouble(0, p, d) - z.getDouble(0, p, d)));
            }
            if (p < pos) {
                assertEquals(0, diff, 0, o + ": changing position " + pos + " changed output " + p);
            } else if (p == pos) {
                assertTrue(diff > 0, o + ": changing position " + pos + " left its own output unchanged");
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesInF64() {
        for (Options o : new Options[] {Options.parse("1@1,1@2,1@1/linear/linear"), Options.parse("0@1,2@3,1@1/avg/repeat")}) {
            Hourglass hg = hourglass(o, 3, 5, DType.F64);
            GradCheck.check(in -> run(hg, in[0]), AttentionReference.randn(9, 1, 2, 7, 3));
        }
    }

    @Test
    void parseAndPrintRoundTrip() {
        Options o = Options.parse(" 2@1, 4@3 ,1@1/LINEAR/linear");
        assertEquals(new Options(2, 4, 1, 3, Shortening.LINEAR, Upsampling.LINEAR), o);
        assertEquals(o, Options.parse(o.toString()));
        assertEquals(new Options(1, 2, 1, 2, Shortening.AVG, Upsampling.REPEAT), Options.parse("1@1,2@2,1@1"));
        assertEquals(7, o.layers());
        assertTrue(o.shortened(2) && !o.shortened(1) && !o.shortened(6));
    }

    @Test
    void badSpecsAreOneLineErrors() {
        for (String[] bad : new String[][] {{"1@1,2@2", "expected pre@1,shortened@k,post@1"}, {"1@1,2@1,1@1", "factor k >= 2"},
            {"1@2,2@2,1@1", "outer levels run at full length"}, {"1@1,2@2,1@1/max", "shortening 'max' is not one of [avg, linear]"},
            {"1@1,0@2,1@1", "shortened >= 1"}, {"a@1,2@2,1@1", "expected pre@1"}, {"1@1,2@2,1@1/avg/conv", "upsampling 'conv'"}}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Options.parse(bad[0]));
            assertTrue(e.getMessage().startsWith("hourglass: ") && e.getMessage().contains(bad[1]) && !e.getMessage().contains("\n"),
                    e.getMessage());
        }
    }
}
