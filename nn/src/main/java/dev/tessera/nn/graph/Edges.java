package dev.tessera.nn.graph;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * The edge index shared by the graph layers: (2, E) integers, row 0 the source j and row 1 the
 * target i of each edge j → i (torch-geometric's {@code edge_index}, messages flowing from source
 * to target), read once into a dense (N, N) count matrix M[i, j] = the number of edges j → i.
 * Dense is the simple choice for the small graphs these layers are tested and trained on: O(N²)
 * memory, the aggregation one matrix product.
 */
final class Edges {
    private Edges() {}

    /** M (N, N) in {@code dtype}, M[i, j] = edges j → i; one-line errors naming {@code who} for a bad index. */
    static double[] counts(String who, Tensor edgeIndex, int nodes) {
        if (edgeIndex == null || edgeIndex.rank() != 2 || edgeIndex.size(0) != 2 || edgeIndex.dtype().isFloating()) {
            throw new IllegalArgumentException(who + ": edge index must be an integer (2, E) tensor, got "
                    + (edgeIndex == null ? "null" : edgeIndex.dtype() + " " + java.util.Arrays.toString(edgeIndex.shape())));
        }
        long[] e = edgeIndex.contiguous().toLongArray();
        int n = edgeIndex.size(1);
        double[] m = new double[nodes * nodes];
        for (int k = 0; k < n; k++) {
            long j = e[k];
            long i = e[n + k];
            if (j < 0 || j >= nodes || i < 0 || i >= nodes) {
                throw new IllegalArgumentException(who + ": edge " + k + " (" + j + " -> " + i + ") names a node outside 0.." + (nodes - 1));
            }
            m[(int) i * nodes + (int) j] += 1;
        }
        return m;
    }

    /** One-line error naming {@code who} unless x is (N, in) with N ≥ 1. */
    static void checkFeatures(String who, dev.tessera.autograd.Variable x, int in) {
        if (x.rank() != 2 || x.size(1) != in || x.size(0) == 0) {
            throw new IllegalArgumentException(who + ": node features must be (N, " + in + ") with N >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
    }

    static Tensor matrix(double[] m, int nodes, DType dtype) {
        return Tensor.of(m, nodes, nodes).to(dtype);
    }
}
