package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GlobalFilterTest {

    static GlobalFilter filter(int c, int n, long seed) {
        return MixerChecks.randomised(new GlobalFilter(c, new GlobalFilter.Options(n, GlobalFilter.Mode.FILTER, 1, 0), DType.F64,
                new Generator(seed)), seed + 1);
    }

    static GlobalFilter afno(int c, int n, int blocks, double shrink, long seed) {
        return MixerChecks.randomised(new GlobalFilter(c, new GlobalFilter.Options(n, GlobalFilter.Mode.AFNO, blocks, shrink), DType.F64,
                new Generator(seed)), seed + 1);
    }

    /**
     * Either form by its definition in doubles: the DFT X̂_f = Σ_s x_s e^{−2πifs/n} of x zero-padded to n (f ≤ n/2), the
     * filter or AFNO's block MLP on each X̂_f, and the real inverse y_t = (1/n) Σ_{f=0}^{n−1} Ŷ_f e^{2πift/n} with
     * Ŷ_{n−f} = conj(Ŷ_f) (the imaginary parts of Ŷ_0 and, for even n, Ŷ_{n/2} dropped, as a real inverse must).
     */
    static double[] naive(GlobalFilter m, double[] x, int b, int t, int c, int n, int blocks, double shrink) {
        Map<String, Tensor> p = m.stateDict();
        int bins = n / 2 + 1;
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            double[][] xr = new double[bins][c];
            double[][] xi = new double[bins][c];
            for (int f = 0; f < bins; f++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int s = 0; s < t; s++) {
                        double a = -2 * Math.PI * f * s / n;
                        xr[f][ch] += x[(r * t + s) * c + ch] * Math.cos(a);
                        xi[f][ch] += x[(r * t + s) * c + ch] * Math.sin(a);
                    }
                }
            }
            double[][][] out = new double[2][bins][];
            for (int f = 0; f < bins; f++) {
                if (p.containsKey("complex_weight")) {
                    double[] k = Ref.p(p, "complex_weight"); // (n/2+1, C, 2)
                    out[0][f] = new double[c];
                    out[1][f] = new double[c];
                    for (int ch = 0; ch < c; ch++) {
                        double kr = k[(f * c + ch) * 2];
                        double ki = k[(f * c + ch) * 2 + 1];
                        out[0][f][ch] = xr[f][ch] * kr - xi[f][ch] * ki;
                        out[1][f][ch] = xr[f][ch] * ki + xi[f][ch] * kr;
                    }
                } else {
                    double[][] h = block(Ref.p(p, "w1"), Ref.p(p, "b1"), xr[f], xi[f], c, blocks);
                    for (double[] part : h) {
                        for (int ch = 0; ch < c; ch++) {
                            part[ch] = Math.max(0, part[ch]);
                        }
                    }
                    double[][] o = block(Ref.p(p, "w2"), Ref.p(p, "b2"), h[0], h[1], c, blocks);
                    for (int part = 0; part < 2; part++) {
                        for (int ch = 0; ch < c; ch++) {
                            double v = o[part][ch];
                            o[part][ch] = Math.signum(v) * Math.max(Math.abs(v) - shrink, 0);
                        }
                        out[part][f] = o[part];
                    }
                }
            }
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < t; i++) {
                    double sum = 0;
                    for (int f = 0; f < n; f++) {
                        int g = f < bins ? f : n - f;
                        double re = out[0][g][ch];
                        double im = f == 0 || 2 * f == n ? 0 : f < bins ? out[1][g][ch] : -out[1][g][ch];
                        double a = 2 * Math.PI * f * i / n;
                        sum += re * Math.cos(a) - im * Math.sin(a);
                    }
                    y[(r * t + i) * c + ch] = sum / n;
                }
            }
        }
        return y;
    }

    /** AFNO's complex block-diagonal W v + b, W (2, nb, bs, bs) and b (2, nb, bs) real/imag first: {re, im} (C). */
    private static double[][] block(double[] w, double[] bias, double[] re, double[] im, int c, int nb) {
        int bs = c / nb;
        double[][] out = new double[2][c];
        for (int blk = 0; blk < nb; blk++) {
            for (int oo = 0; oo < bs; oo++) {
                double sr = bias[blk * bs + oo];
                double si = bias[(nb + blk) * bs + oo];
                for (int i = 0; i < bs; i++) {
                    double wr = w[((blk) * bs + i) * bs + oo];
                    double wi = w[((nb + blk) * bs + i) * bs + oo];
                    sr += re[blk * bs + i] * wr - im[blk * bs + i] * wi;
                    si += re[blk * bs + i] * wi + im[blk * bs + i] * wr;
                }
                out[0][blk * bs + oo] = sr;
                out[1][blk * bs + oo] = si;
            }
        }
        return out;
    }

    @Property(tries = 30)
    void matchesTheNaiveFrequencyFilter(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 0, max = 4) int extra) {
        int n = t + extra;
        GlobalFilter m = filter(c, n, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        LruTest.close(naive(m, Ref.d(x), b, t, c, n, 1, 0), Ref.d(m.forward(Variable.constant(x), AttentionMask.NONE, null).data()), 1e-10);
    }

    @Property(tries = 30)
    void afnoMatchesTheNaiveBlockMlp(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll @IntRange(min = 1, max = 2) int bs, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 0, max = 2) int shrink) {
        int n = t + extra;
        int c = blocks * bs;
        GlobalFilter m = afno(c, n, blocks, 0.1 * shrink, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        LruTest.close(naive(m, Ref.d(x), b, t, c, n, blocks, 0.1 * shrink),
                Ref.d(m.forward(Variable.constant(x), AttentionMask.NONE, null).data()), 1e-10);
    }

    @Test
    void eachDocumentRunIsFilteredAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(filter(3, 12, 3), Ref.randn(4, 1, 2, 11, 3), ids, false);
        MixerChecks.eachRunAlone(afno(4, 12, 2, 0.01, 5), Ref.randn(6, 1, 2, 11, 4), ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(filter(2, 7, 5), Variable.of(Ref.randn(6, 1, 2, 6, 2), true), false);
        MixerChecks.gradientsMatch(filter(2, 6, 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true), false);
        MixerChecks.gradientsMatch(afno(4, 7, 2, 0.01, 9), Variable.of(Ref.randn(10, 1, 2, 6, 4), true), false); // shrink kinks: random values miss them
    }

    @Test
    void bidirectionalOnlyWithOneLineErrors() {
        assertFalse(MixerKind.Spec.of("global_filter", Map.of()).causal());
        var e = assertThrows(IllegalArgumentException.class, () -> filter(2, 4, 1).forward(Variable.constant(Ref.randn(1, 1, 1, 3, 2)),
                AttentionMask.causalOnly(), null));
        assertEquals("mixer global_filter: mixes the whole sequence both ways (an encoder's mixer); got a causal mask", e.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> filter(2, 4, 1).forward(Variable.constant(Ref.randn(1, 1, 1, 5, 2)), null, null));
        assertEquals("mixer global_filter: 5 positions exceed the mixer's length 4 (set the option length)", l.getMessage());
    }
}
