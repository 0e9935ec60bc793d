package dev.tessera.nn.graph;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E27: a graph convolution layer (Kipf and Welling 2017, "Semi-Supervised Classification with
 * Graph Convolutional Networks", ICLR), the renormalised first-order spectral filter:
 * <pre>
 * Dimensions: N nodes, E edges, in / out feature widths.
 *
 *   Ã = A + I,   D̃_ii = Σ_j Ã_ij,   H' = D̃^{−1/2} Ã D̃^{−1/2} H W + b       H (N, in), W (in, out), b (out)
 * </pre>
 * A[i, j] counts the edges j → i of the edge index (2, E) (source row 0, target row 1, as
 * torch-geometric's {@code GCNConv}); for an undirected graph give both directions. Parameters as
 * {@code GCNConv}: {@code lin.weight} (out, in), Glorot-uniform, and {@code bias} (out), zero. Like
 * the paper's Ã = A + I, every node gets one self loop on top of any it has; GCNConv's
 * add_remaining_self_loops instead keeps an existing self loop as the only one, which differs on
 * graphs with self loops only; this layer follows the paper (GraphGoldenTest checks both against
 * torch_geometric: GCNConv(add_self_loops=False) on A + I, and the default on the loop-free graph).
 */
public final class GcnLayer extends Module {
    private final String who = "GcnLayer";
    private final int in;
    private final Variable weight;
    private final Variable bias;

    public GcnLayer(int in, int out, boolean bias, DType dtype, Generator g) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException(who + ": sizes must be positive, got in=" + in + " out=" + out);
        }
        this.in = in;
        double bound = Math.sqrt(6.0 / (in + out));
        Module lin = child("lin", new Holder());
        this.weight = ((Holder) lin).add("weight", Tensor.rand(g, dtype, out, in).mul(2 * bound).sub(bound)); // (out, in)
        this.bias = bias ? parameter("bias", Tensor.zeros(dtype, out)) : null;
    }

    /** H' (N, out) for node features x (N, in) and edge index (2, E). */
    public Variable forward(Variable x, Tensor edgeIndex) {
        Edges.checkFeatures(who, x, in);
        int n = x.size(0);
        double[] a = Edges.counts(who, edgeIndex, n);
        double[] scale = new double[n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] += 1; // Ã = A + I
            double deg = 0;
            for (int j = 0; j < n; j++) {
                deg += a[i * n + j];
            }
            scale[i] = 1 / Math.sqrt(deg);
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                a[i * n + j] *= scale[i] * scale[j];
            }
        }
        Variable y = Variable.constant(Edges.matrix(a, n, x.dtype())).matmul(x.matmul(weight.mT())); // (N, out)
        return bias == null ? y : y.add(bias);
    }

    /** A parameter holder for the {@code lin.} prefix. */
    static final class Holder extends Module {
        Variable add(String name, Tensor initial) {
            return parameter(name, initial);
        }
    }

    @Override
    public String toString() {
        return "GcnLayer(" + in + " -> " + weight.size(0) + ")";
    }
}
