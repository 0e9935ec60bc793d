package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BigsTest {

    /** A BiGS layer in F64 with every parameter redrawn, log steps and log decays kept in a stable range. */
    static Bigs bigs(int c, int n, int h, long seed) {
        Bigs m = MixerChecks.randomised(new Bigs(c, new Bigs.Options(n, h), DType.F64, new Generator(seed)), seed + 1);
        m.namedParameters().forEach((name, p) -> {
            if (name.endsWith("log_step") || name.endsWith("log_a_re")) {
                p.data().copyFromInPlace(p.data().sub(1)); // Δ ≈ e^−1, Re A ≈ −e^−1: decays, but slowly enough to reach across the sequence
            }
        });
        return m;
    }

    /**
     * The BiGS equations in doubles, each SSM by its recurrent view: s_t = Ā s_{t−1} + B̄ u_t, y_t = 2 Re(Σ_n C_n s_t,n) + D u_t,
     * in complex arithmetic per channel, run left to right on F and right to left on Bk (reading Flip, scanning, flipping back).
     */
    static double[] naive(Bigs m, double[] x, int b, int t, int c, int n, int h) {
        Map<String, Tensor> p = m.stateDict();
        double[] v = gelu(Ref.linear(x, b * t, c, Ref.p(p, "dv.weight"), Ref.p(p, "dv.bias"), h));
        double[] f = gelu(Ref.linear(x, b * t, c, Ref.p(p, "du_forward.weight"), Ref.p(p, "du_forward.bias"), c));
        double[] bk = gelu(Ref.linear(flip(x, b, t, c), b * t, c, Ref.p(p, "du_backward.weight"), Ref.p(p, "du_backward.bias"), c));
        double[] ul = Ref.linear(scan(p, "fs4.", f, b, t, c, n), b * t, c, Ref.p(p, "duc_forward.weight"), Ref.p(p, "duc_forward.bias"), c);
        double[] ur = flip(Ref.linear(scan(p, "bs4.", bk, b, t, c, n), b * t, c, Ref.p(p, "duc_backward.weight"), Ref.p(p, "duc_backward.bias"), c),
                b, t, c);
        double[] prod = new double[b * t * c];
        for (int i = 0; i < prod.length; i++) {
            prod[i] = ul[i] * ur[i];
        }
        double[] u = gelu(Ref.linear(prod, b * t, c, Ref.p(p, "dol.weight"), Ref.p(p, "dol.bias"), h));
        for (int i = 0; i < u.length; i++) {
            u[i] *= v[i];
        }
        return Ref.linear(u, b * t, h, Ref.p(p, "do.weight"), Ref.p(p, "do.bias"), c);
    }

    private static double[] gelu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Ref.act(Activation.GELU_ERF, x[i]);
        }
        return y;
    }

    private static double[] flip(double[] x, int b, int t, int c) {
        double[] y = new double[x.length];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                System.arraycopy(x, (r * t + s) * c, y, (r * t + t - 1 - s) * c, c);
            }
        }
        return y;
    }

    /** One S4D SSM by its recurrence, u (B, T, C) row-major. */
    private static double[] scan(Map<String, Tensor> p, String pre, double[] u, int b, int t, int c, int n) {
        double[] logStep = Ref.p(p, pre + "log_step");
        double[] logARe = Ref.p(p, pre + "log_a_re");
        double[] aIm = Ref.p(p, pre + "a_im");
        double[] cc = Ref.p(p, pre + "c");
        double[] d = Ref.p(p, pre + "d");
        double[] y = new double[u.length];
        for (int ch = 0; ch < c; ch++) {
            double dt = Math.exp(logStep[ch]);
            for (int k = 0; k < n; k++) {
                double ar = -Math.exp(logARe[ch * n + k]);
                double ai = aIm[ch * n + k];
                double mag = Math.exp(dt * ar); // Ā = e^{Δ A}
                double barR = mag * Math.cos(dt * ai);
                double barI = mag * Math.sin(dt * ai);
                double den = ar * ar + ai * ai; // B̄ = (Ā − 1) / A
                double bR = ((barR - 1) * ar + barI * ai) / den;
                double bI = (barI * ar - (barR - 1) * ai) / den;
                double cR = cc[(ch * n + k) * 2];
                double cI = cc[(ch * n + k) * 2 + 1];
                for (int r = 0; r < b; r++) {
                    double sR = 0;
                    double sI = 0;
                    for (int s = 0; s < t; s++) {
                        double in = u[(r * t + s) * c + ch];
                        double nR = barR * sR - barI * sI + bR * in;
                        double nI = barR * sI + barI * sR + bI * in;
                        sR = nR;
                        sI = nI;
                        y[(r * t + s) * c + ch] += 2 * (cR * sR - cI * sI);
                    }
                }
            }
            for (int r = 0; r < b; r++) {
                for (int s = 0; s < t; s++) {
                    y[(r * t + s) * c + ch] += d[ch] * u[(r * t + s) * c + ch];
                }
            }
        }
        return y;
    }

    /** The layer (convolution view through causalConv) equals the equations with each SSM run as its recurrence. */
    @Property(tries = 30)
    void matchesTheNaiveRecurrentSsms(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 0, max = 4) int h) {
        int hidden = h == 0 ? 3 * c : h;
        Bigs m = bigs(c, n, h, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        LruTest.close(naive(m, Ref.d(x), b, t, c, n, hidden), Ref.d(m.forward(Variable.constant(x), AttentionMask.NONE, null).data()), 1e-10);
    }

    /** Both directions reach across the sequence: the first output depends on the last input and the last output on the first. */
    @Test
    void eachPositionReadsBothSides() {
        Bigs m = bigs(2, 2, 0, 3);
        Tensor x = Ref.randn(4, 1, 1, 6, 2);
        Tensor y = m.forward(Variable.constant(x), null, null).data();
        Tensor last = x.copy();
        last.narrow(1, 5, 1).copyFromInPlace(last.narrow(1, 5, 1).add(1));
        Tensor first = x.copy();
        first.narrow(1, 0, 1).copyFromInPlace(first.narrow(1, 0, 1).add(1));
        double toFirst = Ref.d(m.forward(Variable.constant(last), null, null).data().sub(y).narrow(1, 0, 1).abs().sum())[0];
        double toLast = Ref.d(m.forward(Variable.constant(first), null, null).data().sub(y).narrow(1, 5, 1).abs().sum())[0];
        assertTrue(toFirst > 1e-6 && toLast > 1e-6, "future -> first " + toFirst + ", past -> last " + toLast);
    }

    @Test
    void eachDocumentRunIsMixedAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(bigs(3, 2, 4, 3), Ref.randn(4, 1, 2, 11, 3), ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(bigs(2, 2, 3, 5), Variable.of(Ref.randn(6, 1, 2, 6, 2), true), false);
    }

    @Test
    void bidirectionalOnlyWithOneLineErrors() {
        assertFalse(MixerKind.Spec.of("bigs", Map.of()).causal());
        assertEquals(new Bigs.Options(32, 0), MixerKind.Spec.of("bigs", Map.of()).options());
        var e = assertThrows(IllegalArgumentException.class, () -> bigs(2, 2, 0, 1).forward(Variable.constant(Ref.randn(1, 1, 1, 3, 2)),
                AttentionMask.causalOnly(), null));
        assertEquals("mixer bigs: mixes the whole sequence both ways (an encoder's mixer); got a causal mask", e.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.Spec.of("bigs", Map.of("state", "0")));
        assertEquals("mixer bigs: need state >= 1 and hidden >= 0, got state=0 hidden=0", o.getMessage());
    }
}
