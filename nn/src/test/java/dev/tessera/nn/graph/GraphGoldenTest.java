package dev.tessera.nn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * E27 against torch_geometric 2.8.0.post1: the fixture written by {@code nn/tools/golden_e27_graph.py}
 * holds a six-node graph (nodes 0 and 5 without in-edges, a self loop 2 → 2), GCNConv's and
 * TransformerConv's weights by name (torch's (out, in) layout, which ours share), outputs, and the
 * gradients of x and of every weight for L = Σ out ⊙ w, all F64.
 */
class GraphGoldenTest {
    private static final double TOL = 1e-12;

    private static Map<String, Tensor> golden() throws Exception {
        return SafeTensors.read(Path.of(GraphGoldenTest.class.getResource("/golden/E27/graph.safetensors").toURI()));
    }

    /** Copies {@code prefix + name} into each parameter, runs L = Σ out ⊙ w, compares out and every gradient with {@code expected + ...}. */
    private static void check(Map<String, Tensor> g, Module m, String prefix, String expected, Function<Variable, Variable> forward) {
        Map<String, Variable> params = m.namedParameters();
        params.forEach((name, p) -> p.data().copyFromInPlace(g.get(prefix + name)));
        m.zeroGrad();
        Variable x = Variable.of(g.get("x").copy(), true);
        Variable out = forward.apply(x);
        Ref.assertClose(g.get(expected + "out"), out.data(), TOL);
        out.mul(Variable.constant(g.get(prefix + "out_weight"))).sum().backward();
        Ref.assertClose(g.get(expected + "grad.x"), x.grad(), TOL);
        params.forEach((name, p) -> Ref.assertClose(g.get(expected + "grad." + name), p.grad(), TOL));
    }

    /** The edge index without its self loops. */
    private static Tensor withoutSelfLoops(Tensor edgeIndex) {
        long[] e = edgeIndex.toLongArray();
        int n = e.length / 2;
        long[] kept = new long[e.length];
        int m = 0;
        for (int k = 0; k < n; k++) {
            if (e[k] != e[n + k]) {
                kept[m++] = k;
            }
        }
        long[] out = new long[2 * m];
        for (int k = 0; k < m; k++) {
            out[k] = e[(int) kept[k]];
            out[m + k] = e[n + (int) kept[k]];
        }
        return Tensor.of(out, 2, m);
    }

    /**
     * GcnLayer follows Kipf and Welling's Ã = A + I: it equals GCNConv with add_self_loops=False on
     * the edges plus a loop at every node (node 2 then has two). GCNConv's default
     * add_remaining_self_loops keeps node 2's own loop as its only one, so our layer matches it on the
     * graph with the existing loop dropped, and differs from it on the graph as given.
     */
    @Test
    void gcnMatchesGcnConv() throws Exception {
        Map<String, Tensor> g = golden();
        Tensor edges = g.get("edge_index");
        GcnLayer gcn = new GcnLayer(3, 4, true, DType.F64, new Generator(0));
        assertEquals(java.util.Set.of("lin.weight", "bias"), gcn.namedParameters().keySet());
        check(g, gcn, "gcn.", "gcn_paper.", x -> gcn.forward(x, edges));
        check(g, gcn, "gcn.", "gcn.", x -> gcn.forward(x, withoutSelfLoops(edges)));
        double[] ours = Ref.d(gcn.forward(Variable.constant(g.get("x")), edges).data());
        double[] torchDefault = Ref.d(g.get("gcn.out"));
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - torchDefault[i]));
        }
        assertTrue(worst > 1e-3, "the self loop 2 -> 2 should count twice in Ã = A + I, unlike GCNConv's default; worst diff " + worst);
    }

    @Test
    void graphTransformerLayerMatchesTransformerConv() throws Exception {
        Map<String, Tensor> g = golden();
        Tensor edges = g.get("edge_index");
        for (boolean concat : new boolean[] {true, false}) {
            String p = concat ? "tc1." : "tc0.";
            GraphTransformerLayer tc = new GraphTransformerLayer(3, 2, 2, concat, DType.F64, new Generator(0));
            check(g, tc, p, p, x -> tc.forward(x, edges));
        }
    }
}
