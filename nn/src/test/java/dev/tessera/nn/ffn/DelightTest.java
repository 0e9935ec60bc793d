package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** One token through the equations of {@link Delight}'s javadoc: DExTra ({@link DextraRef}, none for depth 0), then the light FFN. */
    static double[] naive(Delight m, double[] x, int c) {
        Map<String, Tensor> s = m.stateDict();
        double[] y = m.dextra() == null ? x : DextraRef.dextra(s, "dextra.", m.dextra().widths(), m.dextra().groupCounts(), x);
        double[] h = Ref.linear(y, 1, c, Ref.p(s, "down.weight"), Ref.p(s, "down.bias"), s.get("down.weight").size(0));
        for (int i = 0; i < h.length; i++) {
            h[i] = 0.5 * h[i] * (1 + Erf.erf(h[i] / Math.sqrt(2)));
        }
        return Ref.linear(h, 1, h.length, Ref.p(s, "up.weight"), Ref.p(s, "up.bias"), c);
    }

    @Property(tries = 40)
    void matchesNaiveReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int t,
            @ForAll @IntRange(min = 1, max = 3) int perGroup, @ForAll @IntRange(min = 0, max = 2) int logGroups,
            @ForAll @IntRange(min = 0, max = 5) int depth, @ForAll @IntRange(min = 2, max = 6) int wmHalves,
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
        assertArrayEquals(new int[] {1, 2, 4, 4, 2, 1}, Dextra.groups(6, 4));
        assertArrayEquals(new int[] {1, 2, 4, 2, 1}, Dextra.groups(5, 8));
        Delight m = delight(8, 4, 2, 4, 4, 1);
        assertArrayEquals(new int[] {12, 16, 12, 8}, m.dextra().widths()); // d_m = 8 → d_max = 16 over 2 layers → back to 8
        assertArrayEquals(new int[] {12, 16, 12, 4}, new Dextra("t", 8, 4, 4, 2, 4, DType.F64, new Generator(1)).widths()); // ... → d_o = 4
    }

    /** Eq. 4 with N_min = 4, N_max = 8, w_m = 2 over B = 5 blocks: N^b = 4..8, w_m^b = 2, 2.25, …, 3; parameters grow with the block. */
    @Test
    void blockWiseScalingDeepensAndWidensLaterLayers() {
        Delight.Options o = new Delight.Options(4, 2, 4, 4, 4, 8);
        long before = 0;
        for (int b = 0; b < 5; b++) {
            assertEquals(4 + b, Dextra.depthAt(4, 8, b, 5));
            assertEquals(2 + 0.25 * b, Dextra.widthMultAt(2, 4, 8, b, 5), 1e-12);
            Delight m = new Delight(16, o.atLayer(b, 5), DType.F64, new Generator(1));
            assertEquals(4 + b, m.dextra().depth());
            assertEquals(4 * (int) Math.ceil((2 + 0.25 * b) * 16 / 4), java.util.Arrays.stream(m.dextra().widths()).max().getAsInt());
            assertTrue(m.parameterCount() > before, "block " + b + ": " + m.parameterCount() + " parameters after " + before);
            before = m.parameterCount();
        }
        assertArrayEquals(new int[] {4, 5, 6, 8}, java.util.stream.IntStream.range(0, 4).map(b -> Dextra.depthAt(4, 8, b, 4)).toArray()); // 5.33, 6.67 down
        assertEquals(4, Dextra.depthAt(4, 8, 0, 1));
        assertEquals(o, new Delight.Options(4, 2, 4, 4, 4, 8));
        assertEquals(new Delight.Options(3, 2, 4, 4), new Delight.Options(3, 2, 4, 4).atLayer(4, 5)); // off: every layer keeps depth
        assertEquals(null, new Delight(8, new Delight.Options(0, 2, 4, 4), DType.F64, new Generator(1)).dextra()); // depth 0: light FFN only
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
        assertEquals("ffn delight: need depth >= 0, width_mult >= 1, max_groups a power of two and reduction >= 1, got depth=2"
                + " width_mult=2.0 max_groups=3 reduction=4", e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> new Delight.Options(2, 2, 4, 4, 3, 2));
        assertEquals("ffn delight: block-wise scaling needs 1 <= n_min <= n_max and depth >= 1 (n_min = n_max = 0 for off), got n_min=3"
                + " n_max=2 depth=2", s.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> delight(6, 2, 2, 4, 1, 1));
        assertEquals("ffn delight: max_groups 4 must divide the width 6", d.getMessage());
    }
}
