package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** E1: product-key memory against an exhaustive search over all n² keys in doubles. */
class ProductKeyMemoryTest {

    private static ProductKeyMemory pkm(int dim, int n, int k, int heads, int d, long seed) {
        return new ProductKeyMemory(dim, new ProductKeyMemory.Options(n, k, heads, d, "all"), DType.F64, new Generator(seed));
    }

    /** Σ_h softmax-weighted values of the k best of all n² keys (s1_i + s2_j), found exhaustively. */
    static double[] naive(ProductKeyMemory m, double[] x, int tokens, int c) {
        Map<String, Tensor> s = m.stateDict();
        ProductKeyMemory.Options o = m.options();
        int n = o.keys();
        int d = o.keyDim();
        double[] q = Ref.linear(x, tokens, c, Ref.p(s, "query.weight"), null, o.heads() * d);
        double[] k1 = Ref.p(s, "keys1");
        double[] k2 = Ref.p(s, "keys2");
        double[] v = Ref.p(s, "values");
        double[] y = new double[tokens * c];
        for (int r = 0; r < tokens; r++) {
            for (int h = 0; h < o.heads(); h++) {
                double[] score = new double[n * n];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        double a = 0;
                        for (int e = 0; e < d / 2; e++) {
                            a += q[r * o.heads() * d + h * d + e] * k1[(h * n + i) * (d / 2) + e]
                                    + q[r * o.heads() * d + h * d + d / 2 + e] * k2[(h * n + j) * (d / 2) + e];
                        }
                        score[i * n + j] = a;
                    }
                }
                List<Integer> best = IntStream.range(0, n * n).boxed().sorted(Comparator.comparingDouble((Integer a) -> -score[a]))
                        .limit(o.topK()).toList();
                double max = score[best.get(0)];
                double z = best.stream().mapToDouble(a -> Math.exp(score[a] - max)).sum();
                for (int slot : best) {
                    double w = Math.exp(score[slot] - max) / z;
                    for (int e = 0; e < c; e++) {
                        y[r * c + e] += w * v[slot * c + e];
                    }
                }
            }
        }
        return y;
    }

    @Property(tries = 40)
    void matchesExhaustiveSearchOverAllKeys(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 5) int t,
            @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 1, max = 6) int n, @ForAll @IntRange(min = 1, max = 4) int k,
            @ForAll @IntRange(min = 1, max = 2) int heads, @ForAll @IntRange(min = 1, max = 3) int halfKey,
            @ForAll @IntRange(min = 1, max = 100000) int seed) {
        ProductKeyMemory m = pkm(c, n, Math.min(k, n), heads, 2 * halfKey, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        Ref.assertClose(naive(m, Ref.d(x), b * t, c), m.forward(Variable.constant(x)).data(), 1e-10);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        ProductKeyMemory m = pkm(3, 3, 2, 2, 4, 5);
        Variable x = Variable.of(Ref.randn(6, 1, 1, 3, 3), true);
        ParamGradCheck.check(() -> m.forward(x), ParamGradCheck.concat(m.parameters(), x));
    }

    @Test
    void optionsChooseLayersAndAreValidated() {
        var o = (ProductKeyMemory.Options) FeedForwardKinds.options(FeedForward.Kind.PKM, Map.of("layers", "1, 3"));
        assertTrue(o.inLayer(1) && o.inLayer(3));
        assertFalse(o.inLayer(0) || o.inLayer(2));
        assertTrue(new ProductKeyMemory.Options(4, 2, 1, 2, "all").inLayer(7));
        var e = assertThrows(IllegalArgumentException.class, () -> new ProductKeyMemory.Options(4, 2, 1, 3, "all"));
        assertEquals("ffn pkm: need keys >= 1, 1 <= top_k <= keys, heads >= 1 and an even key_dim >= 2, got keys=4 top_k=2 heads=1 key_dim=3",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ProductKeyMemory.Options(4, 2, 1, 2, "first"));
    }
}
