package dev.tessera.nn.graph;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E27: a graph transformer layer, torch-geometric's {@code TransformerConv}: the unified message
 * passing of Shi, Huang, Feng, Zhong, Wang, Sun 2021 ("Masked Label Prediction: Unified Message
 * Passing Model for Semi-Supervised Classification", IJCAI), multi-head dot-product attention of
 * each node over its in-neighbours, with a root (skip) weight:
 * <pre>
 * Dimensions: N nodes, H heads, d out features per head, in the input width.
 *
 *   q_i = W_q x_i + b_q,  k_j = W_k x_j + b_k,  v_j = W_v x_j + b_v        per head (H, d)
 *   α_ij = softmax over the edges j → i of (q_i · k_j / √d)
 *   x'_i = W_r x_i + b_r + ‖_h Σ_{j → i} α_ij v_j     (concat: H·d)   or the mean over heads (concat=false: d)
 * </pre>
 * Parameters as TransformerConv's: {@code lin_query}, {@code lin_key}, {@code lin_value},
 * {@code lin_skip} (Linear with bias). An edge given twice counts twice in the softmax (as the
 * per-edge softmax does); a node with no in-edges aggregates nothing (zero), keeping only its root
 * term. No edge features, no β gate, no dropout (the defaults of TransformerConv; the paper's gated
 * residual is TransformerConv's beta=True, not implemented). GraphGoldenTest compares values and
 * gradients with torch_geometric's TransformerConv, heads concatenated and averaged.
 */
public final class GraphTransformerLayer extends Module {
    private final String who = "GraphTransformerLayer";
    private final int in;
    private final int heads;
    private final int d;
    private final boolean concat;
    private final Linear query;
    private final Linear key;
    private final Linear value;
    private final Linear skip;

    /** {@code heads} heads of width {@code out} each, concatenated ({@code concat}) or averaged. */
    public GraphTransformerLayer(int in, int out, int heads, boolean concat, DType dtype, Generator g) {
        if (in <= 0 || out <= 0 || heads <= 0) {
            throw new IllegalArgumentException(who + ": sizes must be positive, got in=" + in + " out=" + out + " heads=" + heads);
        }
        this.in = in;
        this.heads = heads;
        this.d = out;
        this.concat = concat;
        query = child("lin_query", Params.linear(in, heads * out, true, g, dtype));
        key = child("lin_key", Params.linear(in, heads * out, true, g, dtype));
        value = child("lin_value", Params.linear(in, heads * out, true, g, dtype));
        skip = child("lin_skip", Params.linear(in, concat ? heads * out : out, true, g, dtype));
    }

    /** x' (N, H·d or d) for node features x (N, in) and edge index (2, E). */
    public Variable forward(Variable x, Tensor edgeIndex) {
        Edges.checkFeatures(who, x, in);
        int n = x.size(0);
        double[] counts = Edges.counts(who, edgeIndex, n);
        double[] logCount = new double[n * n]; // log(edges j → i), −∞ for none; 0 on a row with no in-edges (masked out after)
        double[] any = new double[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                any[i] += counts[i * n + j];
            }
            for (int j = 0; j < n; j++) {
                logCount[i * n + j] = any[i] == 0 ? 0 : counts[i * n + j] == 0 ? Double.NEGATIVE_INFINITY : Math.log(counts[i * n + j]);
            }
            any[i] = any[i] == 0 ? 0 : 1;
        }
        Variable q = query.forward(x).reshape(n, heads, d).transpose(0, 1); // (H, N, d)
        Variable k = key.forward(x).reshape(n, heads, d).transpose(0, 1);
        Variable v = value.forward(x).reshape(n, heads, d).transpose(0, 1);
        Variable scores = q.matmul(k.mT()).mul(1 / Math.sqrt(d)).add(Variable.constant(Edges.matrix(logCount, n, x.dtype()))); // (H, N, N)
        Variable agg = scores.softmax(2).matmul(v).mul(OnDevice.constant(Tensor.of(any, 1, n, 1), x)); // (H, N, d)
        Variable out = concat ? agg.transpose(0, 1).reshape(n, heads * d) : agg.mean(0); // (N, H·d) or (N, d)
        return out.add(skip.forward(x));
    }

    @Override
    public String toString() {
        return "GraphTransformerLayer(" + in + " -> " + heads + "x" + d + (concat ? ", concat" : ", mean") + ")";
    }
}
