package dev.tessera.nn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GraphTransformerNetworkTest {

    /** The GTN equations with plain double matrices: soft selections, normalised products, one GCN per channel. */
    static double[] naive(GraphTransformerNetwork m, double[] x, List<Tensor> edges, int n, int types, int c, int layers, int in, int out) {
        Map<String, Tensor> p = m.stateDict();
        double[][][] a = new double[types + 1][n][n];
        for (int i = 0; i < n; i++) {
            a[0][i][i] = 1;
        }
        for (int k = 0; k < types; k++) {
            long[] e = edges.get(k).toLongArray();
            int ne = e.length / 2;
            for (int s = 0; s < ne; s++) {
                a[k + 1][(int) e[ne + s]][(int) e[s]] += 1;
            }
        }
        double[] xw = Ref.linear(x, n, in, Ref.p(p, "gcn.weight"), null, out);
        double[] bias = Ref.p(p, "gcn.bias");
        double[] z = new double[n * c * out];
        for (int ch = 0; ch < c; ch++) {
            double[][] cur = selection(Ref.p(p, "selection0"), a, ch, types, n);
            for (int l = 1; l <= layers; l++) {
                cur = normalise(product(cur, selection(Ref.p(p, "selection" + l), a, ch, types, n)));
            }
            for (int i = 0; i < n; i++) {
                cur[i][i] += 1;
            }
            cur = normalise(cur);
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int j = 0; j < n; j++) {
                        s += cur[i][j] * xw[j * out + o];
                    }
                    z[i * c * out + ch * out + o] = Math.max(0, s);
                }
            }
        }
        return z;
    }

    private static double[][] selection(double[] w, double[][][] a, int ch, int types, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k <= types; k++) {
            max = Math.max(max, w[ch * (types + 1) + k]);
        }
        double zsum = 0;
        for (int k = 0; k <= types; k++) {
            zsum += Math.exp(w[ch * (types + 1) + k] - max);
        }
        double[][] q = new double[n][n];
        for (int k = 0; k <= types; k++) {
            double alpha = Math.exp(w[ch * (types + 1) + k] - max) / zsum;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    q[i][j] += alpha * a[k][i][j];
                }
            }
        }
        return q;
    }

    private static double[][] product(double[][] x, double[][] y) {
        int n = x.length;
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) {
                    r[i][j] += x[i][k] * y[k][j];
                }
            }
        }
        return r;
    }

    private static double[][] normalise(double[][] x) {
        for (double[] row : x) {
            double s = 0;
            for (double v : row) {
                s += v;
            }
            for (int j = 0; j < row.length && s != 0; j++) {
                row[j] /= s;
            }
        }
        return x;
    }

    static List<Tensor> typedEdges(long seed, int types, int n, int e) {
        List<Tensor> out = new ArrayList<>();
        for (int k = 0; k < types; k++) {
            out.add(GraphLayersTest.edges(seed + k, n, e));
        }
        return out;
    }

    @Property(tries = 25)
    void matchesTheMatrixEquations(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int n, @ForAll @IntRange(min = 1, max = 3) int types,
            @ForAll @IntRange(min = 1, max = 2) int c, @ForAll @IntRange(min = 1, max = 3) int layers, @ForAll @IntRange(min = 0, max = 8) int e,
            @ForAll @IntRange(min = 1, max = 3) int in, @ForAll @IntRange(min = 1, max = 2) int out) {
        GraphTransformerNetwork m = GraphLayersTest.randomised(new GraphTransformerNetwork(types, c, layers, in, out, DType.F64, new Generator(seed)),
                seed + 1);
        Tensor x = Ref.randn(seed + 2, 1, n, in);
        List<Tensor> edges = typedEdges(seed + 3, types, n, e);
        Ref.assertClose(naive(m, Ref.d(x), edges, n, types, c, layers, in, out), m.forward(Variable.constant(x), edges).data(), 1e-12);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        GraphTransformerNetwork m = GraphLayersTest.randomised(new GraphTransformerNetwork(2, 2, 2, 3, 2, DType.F64, new Generator(1)), 2);
        Variable x = Variable.of(Ref.randn(3, 1, 5, 3), true);
        List<Tensor> edges = typedEdges(4, 2, 5, 6);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(x);
        ParamGradCheck.check(() -> m.forward(x, edges), leaves);
    }

    /**
     * Two edge types on two communities of 8: type 1 links within a community, type 2 links at random; with noisy features, 30 Adam
     * steps of the GTN and a linear read-out cut the loss by half.
     */
    @Test
    void aShortNodeClassificationRunLowersTheLoss() {
        int n = 16;
        Generator g = new Generator(21);
        List<Long> inside = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (i != j && i / 8 == j / 8 && g.nextLong(3) != 0) {
                    inside.add((long) j);
                    inside.add((long) i);
                }
            }
        }
        long[] idx = new long[inside.size()];
        int half = inside.size() / 2;
        for (int k = 0; k < half; k++) {
            idx[k] = inside.get(2 * k);
            idx[half + k] = inside.get(2 * k + 1);
        }
        List<Tensor> edges = List.of(Tensor.of(idx, 2, half), GraphLayersTest.edges(22, n, 30));
        long[] labels = new long[n];
        double[] feats = Ref.d(Ref.randn(23, 1, n, 4));
        for (int i = 0; i < n; i++) {
            labels[i] = i / 8;
            feats[i * 4] += labels[i] == 0 ? 0.5 : -0.5;
        }
        Variable x = Variable.constant(Tensor.of(feats, n, 4).to(DType.F32));
        Tensor y = Tensor.of(labels, n);
        GraphTransformerNetwork gtn = new GraphTransformerNetwork(2, 2, 1, 4, 8, DType.F32, new Generator(24));
        dev.tessera.nn.Linear head = dev.tessera.nn.Params.linear(16, 2, true, new Generator(25), DType.F32);
        List<Variable> params = new ArrayList<>(gtn.parameters());
        params.addAll(head.parameters());
        AdamW opt = new AdamW(ParamGroup.all(params), 1e-2);
        double first = 0;
        double last = 0;
        for (int step = 0; step <= 30; step++) {
            opt.zeroGrad();
            Variable l = Losses.crossEntropy(head.forward(gtn.forward(x, edges)), y);
            last = l.data().getDouble();
            first = step == 0 ? last : first;
            l.backward();
            opt.step();
        }
        assertTrue(last < 0.5 * first, "GTN loss " + first + " -> " + last);
    }

    @Test
    void oneLineErrors() {
        GraphTransformerNetwork m = new GraphTransformerNetwork(2, 1, 1, 3, 2, DType.F32, new Generator(1));
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Tensor.zeros(DType.F32, 4, 3)),
                List.of(Tensor.of(new long[] {0, 1}, 2, 1))));
        assertEquals("GraphTransformerNetwork: expected 2 edge indices (one per edge type), got 1", e.getMessage());
    }
}
