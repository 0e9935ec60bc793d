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
        return MixerChecks.randomised(new GlobalFilter(c, new GlobalFilter.Options(n), DType.F64, new Generator(seed)), seed + 1);
    }

    /**
     * The filter by its definition in doubles: the DFT X̂_f = Σ_s x_s e^{−2πifs/n} of x zero-padded to n, Ŷ_f = K_f X̂_f
     * for f ≤ n/2, and the real inverse y_t = (1/n) Σ_{f=0}^{n−1} Ŷ_f e^{2πift/n} with Ŷ_{n−f} = conj(Ŷ_f) (the imaginary
     * parts of Ŷ_0 and, for even n, Ŷ_{n/2} dropped, as a real inverse must).
     */
    static double[] naive(GlobalFilter m, double[] x, int b, int t, int c, int n) {
        double[] k = Ref.p(m.stateDict(), "complex_weight"); // (n/2+1, C, 2)
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int ch = 0; ch < c; ch++) {
                double[] yr = new double[n / 2 + 1];
                double[] yi = new double[n / 2 + 1];
                for (int f = 0; f <= n / 2; f++) {
                    double xr = 0;
                    double xi = 0;
                    for (int s = 0; s < t; s++) {
                        double a = -2 * Math.PI * f * s / n;
                        xr += x[(r * t + s) * c + ch] * Math.cos(a);
                        xi += x[(r * t + s) * c + ch] * Math.sin(a);
                    }
                    double kr = k[(f * c + ch) * 2];
                    double ki = k[(f * c + ch) * 2 + 1];
                    yr[f] = xr * kr - xi * ki;
                    yi[f] = xr * ki + xi * kr;
                }
                for (int i = 0; i < t; i++) {
                    double sum = 0;
                    for (int f = 0; f < n; f++) {
                        int g = f <= n / 2 ? f : n - f;
                        double re = yr[g];
                        double im = f == 0 || 2 * f == n ? 0 : f <= n / 2 ? yi[g] : -yi[g];
                        double a = 2 * Math.PI * f * i / n;
                        sum += re * Math.cos(a) - im * Math.sin(a);
                    }
                    y[(r * t + i) * c + ch] = sum / n;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesTheNaiveFrequencyFilter(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 0, max = 4) int extra) {
        int n = t + extra;
        GlobalFilter m = filter(c, n, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        LruTest.close(naive(m, Ref.d(x), b, t, c, n), Ref.d(m.forward(Variable.constant(x), AttentionMask.NONE, null).data()), 1e-10);
    }

    @Test
    void eachDocumentRunIsFilteredAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(filter(3, 12, 3), Ref.randn(4, 1, 2, 11, 3), ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(filter(2, 7, 5), Variable.of(Ref.randn(6, 1, 2, 6, 2), true), false);
        MixerChecks.gradientsMatch(filter(2, 6, 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true), false);
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
