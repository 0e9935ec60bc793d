package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class FNetTest {

    /** Re(FFT₂) by its definition, y[t, c] = Σ_s Σ_d x[s, d] cos(2π(ts/T + cd/C)), in doubles. */
    static double[] naive(double[] x, int b, int t, int c) {
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < c; k++) {
                    double s = 0;
                    for (int j = 0; j < t; j++) {
                        for (int d = 0; d < c; d++) {
                            s += x[(r * t + j) * c + d] * Math.cos(2 * Math.PI * ((double) i * j / t + (double) k * d / c));
                        }
                    }
                    y[(r * t + i) * c + k] = s;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesTheNaiveTwoDimensionalDft(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 7) int c) {
        Tensor x = Ref.randn(seed, 1, b, t, c);
        LruTest.close(naive(Ref.d(x), b, t, c), Ref.d(new FNet(c).forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void matchesTransformersFNetBasicFourierTransform() throws Exception {
        Map<String, Tensor> g = MixerGolden.load("/golden/e7/fnet.safetensors");
        FNet m = new FNet(g.get("x").size(2));
        MixerGolden.check(g, m, x -> m.forward(x, AttentionMask.NONE, null), 1e-12);
    }

    /** Packed documents and padding runs are each transformed alone, over their own length. */
    @Test
    void eachDocumentRunIsTransformedAlone() {
        long[] ids = {4, 4, 4, 7, 7, 7, 7, 7, 2, 2, 2, /* row 1: real tokens then padding */ 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
        MixerChecks.eachRunAlone(new FNet(5), Ref.randn(3, 1, 2, 11, 5), ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(new FNet(4), Variable.of(Ref.randn(8, 1, 2, 6, 4), true), false);
    }

    @Test
    void bidirectionalOnlyWithOneLineErrors() {
        assertFalse(MixerKind.FNET.causal());
        assertFalse(MixerKind.Spec.of("fnet", Map.of()).causal());
        FNet m = new FNet(3);
        Variable x = Variable.constant(Ref.randn(1, 1, 1, 4, 3));
        var c = assertThrows(IllegalArgumentException.class, () -> m.forward(x, AttentionMask.causalOnly(), null));
        assertEquals("mixer fnet: mixes the whole sequence both ways (an encoder's mixer); got a causal mask", c.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> m.forward(x, null, new MixerState()));
        assertEquals("mixer fnet: mixes the whole sequence both ways; it cannot decode token by token from a state", s.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Ref.randn(1, 1, 1, 4, 2)), null, null));
        assertEquals("mixer fnet: input must be (B, T, 3) with T >= 1, got [1, 4, 2]", w.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.FNET.options(Map.of("causal", "true")));
        assertEquals("mixer fnet takes no options, got 'causal'", o.getMessage());
    }
}
