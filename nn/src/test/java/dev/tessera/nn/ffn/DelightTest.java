package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;

/** E6: DExTra's group linear transforms with shuffle and input mixer, then the light FFN, against plain loops in doubles. */
class DelightTest {

    private static Delight delight(int dim, int depth, double wm, int gmax, int r, long seed) {
        return new Delight(dim, new Delight.Options(depth, wm, gmax, r), DType.F64, new Generator(seed));
    }

    /** One token through the equations of {@link Delight}'s javadoc, index by index. */
    static double[] naive(Delight m, double[] x, int c) {
        Map<String, Tensor> s = m.stateDict();
        int[] widths = m.widths();
        int[] groups = m.groupCounts();
        double[] y = null;
        for (int l = 0; l < widths.length; l++) {
            double[] z;
            if (l == 0) {
                z = x;
            } else {
                int gp = groups[l - 1];
                double[] shuffled = new double[y.length];
                int per = y.length / gp;
                for (int j = 0; j < per; j++) {
                    for (int i = 0; i < gp; i++) {
                        shuffled[j * gp + i] = y[i * per + j]; // (g, d/g) read as (d/g, g)
                    }
                }
                int g = groups[l];
                int ys = shuffled.length / g;
                int xs = c / g;
                z = new double[shuffled.length + c];
                for (int i = 0; i < g; i++) {
                    System.arraycopy(shuffled, i * ys, z, i * (ys + xs), ys);
                    System.arraycopy(x, i * xs, z, i * (ys + xs) + ys, xs);
                }
            }
            int g = groups[l];
            int in = z.length / g;
            int out = widths[l] / g;
            double[] w = Ref.p(s, "glt" + l + "_weight");
            double[] b = Ref.p(s, "glt" + l + "_bias");
            y = new double[widths[l]];
            for (int i = 0; i < g; i++) {
                for (int o = 0; o < out; o++) {
                    double a = b[i * out + o];
                    for (int k = 0; k < in; k++) {
                        a += z[i * in + k] * w[(i * in + k) * out + o];
                    }
                    y[i * out + o] = a;
                }
            }
        }
        double[] h = Ref.linear(y, 1, c, Ref.p(s, "down.weight"), Ref.p(s, "down.bias"), s.get("down.weight").size(0));
        for (int i = 0; i < h.length; i++) {
            h[i] = 0.5 * h[i] * (1 + Erf.erf(h[i] / Math.sqrt(2)));
        }
        return Ref.linear(h, 1, h.length, Ref.p(s, "up.weight"), Ref.p(s, "up.bias"), c);
    }

    @Property(tries = 40)
    void matchesNaiveReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int t,
            @ForAll @IntRange(min = 1, max = 3) int perGroup, @ForAll @IntRange(min = 0, max = 2) int logGroups,
            @ForAll @IntRange(min = 1, max = 5) int depth, @ForAll @IntRange(min = 2, max = 6) int wmHalves,
            @ForAll @IntRange(min = 1, max = 3) int r, @ForAll @IntRange(min = 1, max = 100000) int seed) {
        int gmax = 1 << logGroups;
        int c = gmax * perGroup;
        Delight m = delight(c, depth, wmHalves / 2.0, gmax, r, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        double[] xs = Ref.d(x);
        double[] want = new double[xs.length];
        for (int i = 0; i < b * t; i++) {
            System.arraycopy(naive(m, java.util.Arrays.copyOfRange(xs, i * c, (i + 1) * c), c), 0, want, i * c, c);
        }
        Ref.assertClose(want, m.forward(Variable.constant(x)).data(), 1e-6); // Linear's biases are F32
    }

    @Test
    void groupsAndWidthsFollowTheSchedule() {
        assertArrayEquals(new int[] {1, 2, 4, 4, 2, 1}, Delight.groups(6, 4));
        assertArrayEquals(new int[] {1, 2, 4, 2, 1}, Delight.groups(5, 8));
        Delight m = delight(8, 4, 2, 4, 4, 1);
        assertArrayEquals(new int[] {12, 16, 12, 8}, m.widths()); // d_m = 8 → d_max = 16 over 2 layers → back to 8
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Delight m = delight(4, 3, 1.5, 2, 2, 3);
        Variable x = Variable.of(Ref.randn(4, 1, 1, 2, 4), true);
        ParamGradCheck.check(() -> m.forward(x), ParamGradCheck.concat(m.parameters(), x));
    }

    @Test
    void optionsAreValidated() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Delight.Options(2, 2, 3, 4));
        assertEquals("ffn delight: need depth >= 1, width_mult >= 1, max_groups a power of two and reduction >= 1, got depth=2"
                + " width_mult=2.0 max_groups=3 reduction=4", e.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> delight(6, 2, 2, 4, 1, 1));
        assertEquals("ffn delight: max_groups 4 must divide the width 6", d.getMessage());
    }
}
