package dev.tessera.nn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
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

class GraphLayersTest {

    /** A random edge index (2, E) over n nodes (duplicates and self loops allowed), seeded. */
    static Tensor edges(long seed, int n, int e) {
        Generator g = new Generator(seed);
        long[] idx = new long[2 * e];
        for (int k = 0; k < 2 * e; k++) {
            idx[k] = g.nextLong(n);
        }
        return Tensor.of(idx, 2, e);
    }

    static <M extends Module> M randomised(M m, long seed) {
        Generator g = new Generator(seed);
        m.parameters().forEach(p -> p.data().copyFromInPlace(Tensor.randn(g, p.dtype(), p.shape()).mul(0.5)));
        return m;
    }

    /** GCN by its edge list: out_i = Σ over edges j → i and one self loop of (deg_i deg_j)^{−1/2} (x_j W), deg = in-edges + 1, plus b. */
    static double[] naiveGcn(GcnLayer m, double[] x, long[] e, int n, int in, int out) {
        Map<String, Tensor> p = m.stateDict();
        double[] xw = Ref.linear(x, n, in, Ref.p(p, "lin.weight"), null, out);
        int ne = e.length / 2;
        double[] deg = new double[n];
        for (int i = 0; i < n; i++) {
            deg[i] = 1;
        }
        for (int k = 0; k < ne; k++) {
            deg[(int) e[ne + k]] += 1;
        }
        double[] y = new double[n * out];
        double[] b = Ref.p(p, "bias");
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                y[i * out + o] = xw[i * out + o] / deg[i] + (b == null ? 0 : b[o]);
            }
        }
        for (int k = 0; k < ne; k++) {
            int j = (int) e[k];
            int i = (int) e[ne + k];
            for (int o = 0; o < out; o++) {
                y[i * out + o] += xw[j * out + o] / Math.sqrt(deg[i] * deg[j]);
            }
        }
        return y;
    }

    /** TransformerConv by its edge list: a softmax per target node over its in-edges, per head. */
    static double[] naiveTransformer(GraphTransformerLayer m, double[] x, long[] e, int n, int in, int out, int heads, boolean concat) {
        Map<String, Tensor> p = m.stateDict();
        int hd = heads * out;
        double[] q = Ref.linear(x, n, in, Ref.p(p, "lin_query.weight"), Ref.p(p, "lin_query.bias"), hd);
        double[] k = Ref.linear(x, n, in, Ref.p(p, "lin_key.weight"), Ref.p(p, "lin_key.bias"), hd);
        double[] v = Ref.linear(x, n, in, Ref.p(p, "lin_value.weight"), Ref.p(p, "lin_value.bias"), hd);
        int width = concat ? hd : out;
        double[] y = Ref.linear(x, n, in, Ref.p(p, "lin_skip.weight"), Ref.p(p, "lin_skip.bias"), width);
        int ne = e.length / 2;
        for (int i = 0; i < n; i++) {
            for (int h = 0; h < heads; h++) {
                double max = Double.NEGATIVE_INFINITY;
                double[] s = new double[ne];
                for (int a = 0; a < ne; a++) {
                    if (e[ne + a] == i) {
                        int j = (int) e[a];
                        double dot = 0;
                        for (int c = 0; c < out; c++) {
                            dot += q[i * hd + h * out + c] * k[j * hd + h * out + c];
                        }
                        s[a] = dot / Math.sqrt(out);
                        max = Math.max(max, s[a]);
                    }
                }
                double z = 0;
                for (int a = 0; a < ne; a++) {
                    z += e[ne + a] == i ? Math.exp(s[a] - max) : 0;
                }
                for (int a = 0; a < ne; a++) {
                    if (e[ne + a] == i) {
                        double alpha = Math.exp(s[a] - max) / z;
                        for (int c = 0; c < out; c++) {
                            double msg = alpha * v[(int) e[a] * hd + h * out + c];
                            y[i * width + (concat ? h * out + c : c)] += concat ? msg : msg / heads;
                        }
                    }
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void gcnMatchesTheEdgeListSum(@ForAll long seed, @ForAll @IntRange(min = 1, max = 7) int n, @ForAll @IntRange(min = 0, max = 12) int e,
            @ForAll @IntRange(min = 1, max = 3) int in, @ForAll @IntRange(min = 1, max = 3) int out, @ForAll boolean bias) {
        GcnLayer m = randomised(new GcnLayer(in, out, bias, DType.F64, new Generator(seed)), seed + 1);
        Tensor x = Ref.randn(seed + 2, 1, n, in);
        Tensor idx = edges(seed + 3, n, e);
        Ref.assertClose(naiveGcn(m, Ref.d(x), idx.toLongArray(), n, in, out), m.forward(Variable.constant(x), idx).data(), 1e-12);
    }

    @Property(tries = 30)
    void transformerConvMatchesThePerEdgeSoftmax(@ForAll long seed, @ForAll @IntRange(min = 1, max = 7) int n,
            @ForAll @IntRange(min = 0, max = 12) int e, @ForAll @IntRange(min = 1, max = 3) int in, @ForAll @IntRange(min = 1, max = 3) int out,
            @ForAll @IntRange(min = 1, max = 3) int heads, @ForAll boolean concat) {
        GraphTransformerLayer m = randomised(new GraphTransformerLayer(in, out, heads, concat, DType.F64, new Generator(seed)), seed + 1);
        Tensor x = Ref.randn(seed + 2, 1, n, in);
        Tensor idx = edges(seed + 3, n, e);
        Ref.assertClose(naiveTransformer(m, Ref.d(x), idx.toLongArray(), n, in, out, heads, concat), m.forward(Variable.constant(x), idx).data(),
                1e-12);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Tensor idx = Tensor.of(new long[] {0, 1, 2, 2, 3, 1, 1, 2, 0, 3, 3, 0}, 2, 6); // a duplicate edge 1 → 2 … and node 4 with no in-edges
        Variable x = Variable.of(Ref.randn(5, 1, 5, 3), true);
        GcnLayer gcn = randomised(new GcnLayer(3, 2, true, DType.F64, new Generator(1)), 2);
        GraphTransformerLayer gt = randomised(new GraphTransformerLayer(3, 2, 2, true, DType.F64, new Generator(3)), 4);
        for (Module m : List.<Module>of(gcn, gt)) {
            List<Variable> leaves = new ArrayList<>(m.parameters());
            leaves.add(x);
            ParamGradCheck.check(() -> m == gcn ? gcn.forward(x, idx) : gt.forward(x, idx), leaves);
        }
    }

    /** Two communities of 8 nodes, dense inside, two bridges; noisy features: 30 Adam steps of a two-layer net cut the loss by half. */
    @Test
    void aShortNodeClassificationRunLowersTheLoss() {
        int n = 16;
        Generator g = new Generator(11);
        List<long[]> es = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                boolean same = i / 8 == j / 8;
                if (i != j && (same ? g.nextLong(3) != 0 : (i == 0 && j == 8) || (i == 8 && j == 0) || (i == 5 && j == 12) || (i == 12 && j == 5))) {
                    es.add(new long[] {j, i});
                }
            }
        }
        long[] idx = new long[2 * es.size()];
        for (int k = 0; k < es.size(); k++) {
            idx[k] = es.get(k)[0];
            idx[es.size() + k] = es.get(k)[1];
        }
        Tensor edgeIndex = Tensor.of(idx, 2, es.size());
        long[] labels = new long[n];
        double[] feats = Ref.d(Ref.randn(12, 1, n, 4));
        for (int i = 0; i < n; i++) {
            labels[i] = i / 8;
            feats[i * 4] += labels[i] == 0 ? 0.5 : -0.5; // a weak signal the neighbourhood averages out of the noise
        }
        Variable x = Variable.constant(Tensor.of(feats, n, 4).to(DType.F32));
        Tensor y = Tensor.of(labels, n);
        GcnLayer g1 = new GcnLayer(4, 8, true, DType.F32, new Generator(13));
        GcnLayer g2 = new GcnLayer(8, 2, true, DType.F32, new Generator(14));
        GraphTransformerLayer t1 = new GraphTransformerLayer(4, 4, 2, true, DType.F32, new Generator(15));
        GraphTransformerLayer t2 = new GraphTransformerLayer(8, 2, 1, true, DType.F32, new Generator(16));
        double[] gcn = train(List.of(g1, g2), () -> Losses.crossEntropy(g2.forward(g1.forward(x, edgeIndex).relu(), edgeIndex), y));
        double[] gt = train(List.of(t1, t2), () -> Losses.crossEntropy(t2.forward(t1.forward(x, edgeIndex).relu(), edgeIndex), y));
        assertTrue(gcn[1] < 0.5 * gcn[0], "GCN loss " + gcn[0] + " -> " + gcn[1]);
        assertTrue(gt[1] < 0.5 * gt[0], "graph transformer loss " + gt[0] + " -> " + gt[1]);
    }

    private static double[] train(List<Module> layers, java.util.function.Supplier<Variable> loss) {
        List<Variable> params = new ArrayList<>();
        layers.forEach(l -> params.addAll(l.parameters()));
        AdamW opt = new AdamW(ParamGroup.all(params), 1e-2);
        double first = 0;
        double last = 0;
        for (int step = 0; step <= 30; step++) {
            opt.zeroGrad();
            Variable l = loss.get();
            last = l.data().getDouble();
            first = step == 0 ? last : first;
            l.backward();
            opt.step();
        }
        return new double[] {first, last};
    }

    @Test
    void oneLineErrorsAndHuggingFaceStyleNames() {
        GcnLayer gcn = new GcnLayer(3, 2, true, DType.F32, new Generator(1));
        assertEquals(java.util.Set.of("lin.weight", "bias"), gcn.stateDict().keySet());
        var e = assertThrows(IllegalArgumentException.class, () -> gcn.forward(Variable.constant(Tensor.zeros(DType.F32, 4, 3)),
                Tensor.of(new long[] {0, 4}, 2, 1)));
        assertEquals("GcnLayer: edge 0 (0 -> 4) names a node outside 0..3", e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> gcn.forward(Variable.constant(Tensor.zeros(DType.F32, 4, 2)),
                Tensor.of(new long[] {0, 1}, 2, 1)));
        assertEquals("GcnLayer: node features must be (N, 3) with N >= 1, got [4, 2]", f.getMessage());
        GraphTransformerLayer gt = new GraphTransformerLayer(3, 2, 2, false, DType.F32, new Generator(1));
        assertArrayEquals(new int[] {4, 2}, gt.forward(Variable.constant(Tensor.zeros(DType.F32, 4, 3)), Tensor.of(new long[] {0, 1}, 2, 1)).shape());
        assertTrue(gt.stateDict().keySet().containsAll(List.of("lin_query.weight", "lin_key.bias", "lin_value.weight", "lin_skip.bias")));
    }
}
