package dev.tessera.nn.graph;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;

/**
 * E27: the Graph Transformer Network (Yun, Jeong, Kim, Kang, Kim 2019, "Graph Transformer
 * Networks", NeurIPS) on a heterogeneous graph of K edge types: each layer softly selects an edge
 * type per channel, products of the selections are learned meta-path adjacencies, and a GCN runs
 * on each channel's meta-path graph.
 * <pre>
 * Dimensions: N nodes, K edge types (+ the identity A₀ = I, so shorter meta-paths stay reachable),
 * C channels, L layers, in / out feature widths.
 *
 *   Q_l = Σ_{k=0}^{K} softmax(W_l)_{c,k} A_k                (C, N, N)    W_l (C, K+1), {@code selection<l>}; layer 1 has two, W_0 and W_1
 *   A⁽¹⁾ = D⁻¹ (Q_0 Q_1),   A⁽ˡ⁾ = D⁻¹ (A⁽ˡ⁻¹⁾ Q_l)            per channel, D the row sums (a zero row stays zero)
 *   Z = ‖_{c=1}^{C} ReLU(D̃_c⁻¹ (A_c⁽ᴸ⁾ + I) X W)              (N, C·out)   W (in, out) shared, {@code gcn.weight} (out, in), {@code gcn.bias}
 * </pre>
 * A_k[i, j] counts the edges j → i of type k (edge index (2, E_k) each, as {@link GcnLayer}). The
 * adjacencies are dense (N, N): fine for the small graphs of the tests, O(C·N³) per product. The
 * selections start at zero (uniform over the types), the GCN weight Glorot-uniform.
 */
public final class GraphTransformerNetwork extends Module {
    private final String who = "GraphTransformerNetwork";
    private final int types;
    private final int in;
    private final Variable[] selections;
    private final Variable weight;
    private final Variable bias;

    /** {@code types} edge types, {@code channels} meta-path channels, {@code layers} ≥ 1 GT layers (meta-paths up to layers + 1 edges). */
    public GraphTransformerNetwork(int types, int channels, int layers, int in, int out, DType dtype, Generator g) {
        if (types < 1 || channels < 1 || layers < 1 || in < 1 || out < 1) {
            throw new IllegalArgumentException(who + ": sizes must be positive, got types=" + types + " channels=" + channels + " layers=" + layers
                    + " in=" + in + " out=" + out);
        }
        this.types = types;
        this.in = in;
        selections = new Variable[layers + 1];
        for (int l = 0; l <= layers; l++) {
            selections[l] = parameter("selection" + l, Tensor.zeros(dtype, channels, types + 1));
        }
        double bound = Math.sqrt(6.0 / (in + out));
        GcnLayer.Holder gcn = child("gcn", new GcnLayer.Holder());
        weight = gcn.add("weight", Tensor.rand(g, dtype, out, in).mul(2 * bound).sub(bound)); // (out, in)
        bias = gcn.add("bias", Tensor.zeros(dtype, out));
    }

    /** Z (N, C·out) for node features x (N, in) and one edge index (2, E_k) per edge type. */
    public Variable forward(Variable x, List<Tensor> edgeIndices) {
        Edges.checkFeatures(who, x, in);
        if (edgeIndices.size() != types) {
            throw new IllegalArgumentException(who + ": expected " + types + " edge indices (one per edge type), got " + edgeIndices.size());
        }
        int n = x.size(0);
        double[] stacked = new double[(types + 1) * n * n]; // (K+1, N, N): I, then each type's counts
        for (int i = 0; i < n; i++) {
            stacked[i * n + i] = 1;
        }
        for (int k = 0; k < types; k++) {
            System.arraycopy(Edges.counts(who, edgeIndices.get(k), n), 0, stacked, (k + 1) * n * n, n * n);
        }
        Variable adj = OnDevice.constant(Tensor.of(stacked, types + 1, n * n), x); // (K+1, N·N)
        int c = selections[0].size(0);
        Variable a = select(0, adj, n, c);
        for (int l = 1; l < selections.length; l++) {
            a = rowNormalised(a.matmul(select(l, adj, n, c))); // (C, N, N)
        }
        Variable withSelf = a.add(Variable.constant(Tensor.eye(n, x.dtype()))); // Ã = A + I
        Variable xw = x.matmul(weight.mT()); // (N, out)
        Variable z = rowNormalised(withSelf).matmul(xw).add(bias).relu(); // (C, N, out)
        return z.transpose(0, 1).reshape(n, c * xw.size(1)); // (N, C·out)
    }

    /** Q_l (C, N, N) = softmax(W_l) over the K+1 adjacencies. */
    private Variable select(int l, Variable adj, int n, int c) {
        return selections[l].softmax(1).matmul(adj).reshape(c, n, n);
    }

    /** D⁻¹ A per channel, A (C, N, N) non-negative; a row summing to zero stays zero. */
    private static Variable rowNormalised(Variable a) {
        Variable sums = a.sum(true, 2); // (C, N, 1)
        Tensor zero = sums.data().eq(0).to(a.dtype()); // 1 where a row is empty: divide it by 1, not 0
        return a.div(sums.add(Variable.constant(zero)));
    }

    @Override
    public String toString() {
        return "GraphTransformerNetwork(K=" + types + ", C=" + selections[0].size(0) + ", L=" + (selections.length - 1) + ", " + in + " -> "
                + weight.size(0) + ")";
    }
}
