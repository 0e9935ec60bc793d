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

class SpectralConvTest {

    static SpectralConv fno(int c, int modes, long seed) {
        return MixerChecks.randomised(new SpectralConv(c, new SpectralConv.Options(modes), DType.F64, new Generator(seed)), seed + 1);
    }

    /**
     * The layer by its definition in doubles: v̂_f = Σ_s v_s e^{−2πifs/T}, ŵ_f[o] = Σ_i v̂_f[i] R[i, o, f] for f &lt; k (else 0),
     * the real inverse (1/T) Σ_{f=0}^{T−1} ŵ_f e^{2πift/T} with ŵ_{T−f} = conj(ŵ_f) (imaginary parts of ŵ_0 and, for even T,
     * ŵ_{T/2} dropped), plus W v + b.
     */
    static double[] naive(SpectralConv m, double[] x, int b, int t, int c, int k) {
        Map<String, Tensor> p = m.stateDict();
        double[] r = Ref.p(p, "weights1"); // (C, C, k, 2)
        double[] y = Ref.linear(x, b * t, c, Ref.p(p, "w.weight"), Ref.p(p, "w.bias"), c);
        int bins = t / 2 + 1;
        for (int row = 0; row < b; row++) {
            double[][] wr = new double[bins][c];
            double[][] wi = new double[bins][c];
            for (int f = 0; f < Math.min(k, bins); f++) {
                double[] vr = new double[c];
                double[] vi = new double[c];
                for (int i = 0; i < c; i++) {
                    for (int s = 0; s < t; s++) {
                        double a = -2 * Math.PI * f * s / t;
                        vr[i] += x[(row * t + s) * c + i] * Math.cos(a);
                        vi[i] += x[(row * t + s) * c + i] * Math.sin(a);
                    }
                }
                for (int o = 0; o < c; o++) {
                    for (int i = 0; i < c; i++) {
                        double rr = r[((i * c + o) * k + f) * 2];
                        double ri = r[((i * c + o) * k + f) * 2 + 1];
                        wr[f][o] += vr[i] * rr - vi[i] * ri;
                        wi[f][o] += vr[i] * ri + vi[i] * rr;
                    }
                }
            }
            for (int o = 0; o < c; o++) {
                for (int i = 0; i < t; i++) {
                    double sum = 0;
                    for (int f = 0; f < t; f++) {
                        int g = f < bins ? f : t - f;
                        double im = f == 0 || 2 * f == t ? 0 : f < bins ? wi[g][o] : -wi[g][o];
                        double a = 2 * Math.PI * f * i / t;
                        sum += wr[g][o] * Math.cos(a) - im * Math.sin(a);
                    }
                    y[(row * t + i) * c + o] += sum / t;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesTheNaiveSpectralConvolution(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 10) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 7) int k) {
        SpectralConv m = fno(c, k, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        LruTest.close(naive(m, Ref.d(x), b, t, c, k), Ref.d(m.forward(Variable.constant(x), AttentionMask.NONE, null).data()), 1e-10);
    }

    @Test
    void eachDocumentRunIsTransformedAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(fno(3, 3, 3), Ref.randn(4, 1, 2, 11, 3), ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(fno(2, 2, 5), Variable.of(Ref.randn(6, 1, 2, 6, 2), true), false);
        MixerChecks.gradientsMatch(fno(3, 9, 7), Variable.of(Ref.randn(8, 1, 2, 6, 3), true), false);
    }

    @Test
    void bidirectionalOnlyWithOneLineErrors() {
        assertFalse(MixerKind.Spec.of("fno", Map.of()).causal());
        var e = assertThrows(IllegalArgumentException.class, () -> MixerKind.FNO.options(Map.of("modes", "0")));
        assertEquals("mixer fno: need modes >= 1, got 0", e.getMessage());
        var c = assertThrows(IllegalArgumentException.class, () -> fno(2, 2, 1).forward(Variable.constant(Ref.randn(1, 1, 1, 3, 2)),
                AttentionMask.causalOnly(), null));
        assertEquals("mixer fno: mixes the whole sequence both ways (an encoder's mixer); got a causal mask", c.getMessage());
    }
}
