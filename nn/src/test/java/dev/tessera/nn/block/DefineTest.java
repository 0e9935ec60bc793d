package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.ffn.DextraRef;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** E6 DeFINE: the map-expand-reduce unit against plain loops in doubles, its schedule, gradients and size. */
class DefineTest {

    /** One token through the equations of {@link Define}'s javadoc, index by index. */
    static double[] naive(Define m, int token) {
        Map<String, Tensor> s = m.stateDict();
        int n = m.embeddingDim();
        double[] e = java.util.Arrays.copyOfRange(Ref.p(s, "weight"), token * n, (token + 1) * n);
        for (int i = 0; i < n; i++) {
            e[i] *= Math.sqrt(n);
        }
        int[] d = m.widths();
        int[] groups = m.groupCounts();
        double[] y = null;
        for (int l = 0; l < d.length; l++) {
            double[] z = l == 0 ? e : DextraRef.mix(e, y, groups[l]);
            y = DextraRef.groupLinear(z, Ref.p(s, "glt" + l + "_weight"), Ref.p(s, "glt" + l + "_bias"), groups[l], d[l]);
        }
        double[] z = DextraRef.mix(e, y, 1);
        return Ref.linear(z, 1, z.length, Ref.p(s, "out_proj.weight"), Ref.p(s, "out_proj.bias"), m.dim());
    }

    @Property(tries = 40)
    void matchesNaiveReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int t,
            @ForAll @IntRange(min = 1, max = 3) int perGroup, @ForAll @IntRange(min = 0, max = 2) int logGroups,
            @ForAll @IntRange(min = 1, max = 4) int depth, @ForAll @IntRange(min = 1, max = 9) int m,
            @ForAll @IntRange(min = 1, max = 12) int k, @ForAll @IntRange(min = 1, max = 100000) int seed) {
        int gmax = 1 << logGroups;
        int vocab = 7;
        Define e = new Define(vocab, m, new Define.Options(gmax * perGroup, depth, k, gmax), 0, 0.5, new Generator(seed), DType.F64);
        Generator g = new Generator(seed + 1);
        long[] ids = new long[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = g.nextLong(vocab);
        }
        double[] want = new double[b * t * m];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(naive(e, (int) ids[i]), 0, want, i * m, m);
        }
        Variable got = e.forward(Tensor.of(ids, b, t));
        assertArrayEquals(new int[] {b, t, m}, got.shape());
        Ref.assertClose(want, got.data(), 1e-6); // Linear's bias is F32
    }

    @Test
    void groupsHalveAndWidthsGrowToK() {
        assertArrayEquals(new int[] {4, 2, 1}, Define.groups(3, 4));
        assertArrayEquals(new int[] {4, 4, 2, 1}, Define.groups(4, 4)); // 2^(N-1) = 8 capped at g_max
        assertArrayEquals(new int[] {1}, Define.groups(1, 8));
        assertArrayEquals(new int[] {16, 20, 24}, Define.widths(8, 24, 3, 4)); // 13.3 and 18.7 rounded up to multiples of 4, then k
    }

    @Test
    void gradientsMatchCentralDifferences() {
        Define e = new Define(5, 3, new Define.Options(4, 3, 6, 2), 0, 0.5, new Generator(3), DType.F64);
        Tensor ids = Tensor.of(new long[] {0, 3, 3, 4}, 2, 2);
        ParamGradCheck.check(() -> e.forward(ids), e.parameters());
    }

    /**
     * The paper's claim at a WikiText-103 Transformer-XL size (V = 267,735, m = 410, our reading of the
     * setting: n = 128, k = 1024, N = 3, g_max = 4): fewer parameters than the V·m table, counted from the
     * schedule; the count equals the built module's at a small size.
     */
    @Test
    void fewerParametersThanADenseTable() {
        Define.Options o = new Define.Options(16, 3, 96, 4);
        Define e = new Define(50, 40, o, 0, 0.02, new Generator(1), DType.F32);
        assertEquals(e.parameterCount(), Define.parameterCount(50, 40, o));
        long paper = Define.parameterCount(267_735, 410, new Define.Options(128, 3, 1024, 4));
        long dense = 267_735L * 410;
        assertEquals(true, paper < dense / 3, paper + " DeFINE parameters vs " + dense + " for the dense table");
    }

    @Test
    void optionsBindByNameAndAreValidated() {
        assertEquals(new Define.Options(0, 3, 0, 4), Define.options(Map.of()));
        assertEquals(new Define.Options(32, 2, 64, 8), Define.options(Map.of("dim", "32", "depth", 2, "width", "64", "max_groups", "8")));
        var bad = assertThrows(IllegalArgumentException.class, () -> Define.options(Map.of("max_groups", "3")));
        assertEquals("embedding define: need dim >= 0, depth >= 1, width >= 0 and max_groups a power of two, got dim=0 depth=3 width=0"
                + " max_groups=3", bad.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () -> Define.options(Map.of("groups", "3")));
        assertEquals("embedding define: unknown option 'groups' (options: dim, depth, width, max_groups)", unknown.getMessage());
        var divide = assertThrows(IllegalArgumentException.class,
                () -> new Define(10, 16, new Define.Options(6, 2, 0, 4), 0, 0.02, new Generator(1), DType.F32));
        assertEquals("embedding define: need vocab >= 1, model width >= 1 and max_groups 4 dividing dim 6, got vocab=10 width=16",
                divide.getMessage());
    }
}
