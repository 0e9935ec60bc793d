package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Tensor;

/**
 * Clustered attention (B18), after Vyas, Katharopoulos and Fleuret, "Fast Transformers with
 * Clustered Attention", NeurIPS 2020: queries that are close attend alike, so group the T queries of
 * each head into C clusters, attend once per cluster centroid and hand each query its cluster's
 * result:
 * <pre>
 *   c(i)  = the cluster of query i after L Lloyd (K-means) iterations on the queries
 *   Q^c_j = (1/|j|) Σ_{i: c(i)=j} q_i                         (centroids, C × D)
 *   A^c   = softmax(Q^c Kᵀ / √D)                               (C × S)
 *   out_i = (A^c V)_{c(i)}
 * </pre>
 * so the cost is O(T·C·D·L) for the clustering plus O(C·S·D) for the attention: linear in T and S
 * for a fixed C, instead of O(T·S·D).
 *
 * <p>Choices. The clustering is plain Lloyd on the queries themselves, started from the queries at
 * positions ⌊jT/C⌋ (deterministic), ties to the lower cluster, an emptied cluster keeps its centroid;
 * the paper first hashes the queries to B-bit codes by random hyperplanes and runs K-means in
 * Hamming space, a speed device for long sequences that this reference form leaves out (a named
 * departure). The assignment is a constant (it has no derivative); the centroids are averages of
 * their members, so gradients reach every query through its centroid, as in the paper. With C ≥ T
 * every query is its own cluster and the kernel is exact softmax attention. All queries of a cluster
 * share one row of weights over all keys, which is why the kernel is bidirectional only: a causal or
 * document mask would give members different key sets, and it is refused.
 */
public final class ClusteredAttention implements AttentionKernel {

    /**
     * @param clusters C ≥ 1, the clusters per head (the paper uses 25–200 for sequences of thousands)
     * @param iterations L ≥ 0, the Lloyd iterations (the paper uses 10)
     */
    public record Options(int clusters, int iterations) {
        public Options {
            if (clusters < 1) {
                throw new IllegalArgumentException("attention clustered: option clusters must be >= 1, got " + clusters);
            }
            if (iterations < 0) {
                throw new IllegalArgumentException("attention clustered: option iterations must be >= 0, got " + iterations);
            }
        }
    }

    private final Options options;

    public ClusteredAttention(Options options) {
        this.options = options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("ClusteredAttention", q, k, v, mask);
        if (mask.masksAnything()) {
            throw new IllegalArgumentException("ClusteredAttention: the queries of a cluster share one row of weights, so it is "
                    + "bidirectional only; got a causal or document mask");
        }
        int batch = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3);
        int c = Math.min(options.clusters(), t);
        double[] queries = q.data().toDoubleArray();
        double[] average = new double[batch * heads * c * t]; // (B, H, C, T): 1/|j| where query i is in cluster j
        double[] member = new double[batch * heads * t * c]; // (B, H, T, C): one-hot cluster of each query
        for (int bh = 0; bh < batch * heads; bh++) {
            int[] cluster = cluster(queries, bh * t * d, t, d, c, options.iterations());
            int[] size = new int[c];
            for (int j : cluster) {
                size[j]++;
            }
            for (int i = 0; i < t; i++) {
                average[(bh * c + cluster[i]) * t + i] = 1.0 / size[cluster[i]];
                member[(bh * t + i) * c + cluster[i]] = 1;
            }
        }
        Variable centroids = OnDevice.constant(Tensor.of(average, batch, heads, c, t), q).matmul(q); // (B, H, C, D)
        Variable perCluster = centroids.matmul(k.mT()).div(Math.sqrt(d)).softmax(-1).matmul(v); // (B, H, C, Dv)
        return OnDevice.constant(Tensor.of(member, batch, heads, t, c), q).matmul(perCluster);
    }

    /**
     * Lloyd's K-means on the t rows of length d starting at {@code offset} of {@code x}: c ≤ t
     * clusters started from rows ⌊jt/c⌋, {@code iterations} rounds of assign-then-average, then a
     * last assignment; returns the cluster of each row.
     */
    static int[] cluster(double[] x, int offset, int t, int d, int c, int iterations) {
        double[] centroid = new double[c * d];
        for (int j = 0; j < c; j++) {
            System.arraycopy(x, offset + (int) ((long) j * t / c) * d, centroid, j * d, d);
        }
        int[] assignment = new int[t];
        for (int round = 0; ; round++) {
            for (int i = 0; i < t; i++) {
                assignment[i] = nearest(x, offset + i * d, centroid, c, d);
            }
            if (round == iterations) {
                return assignment;
            }
            double[] sum = new double[c * d];
            int[] count = new int[c];
            for (int i = 0; i < t; i++) {
                count[assignment[i]]++;
                for (int e = 0; e < d; e++) {
                    sum[assignment[i] * d + e] += x[offset + i * d + e];
                }
            }
            for (int j = 0; j < c; j++) {
                for (int e = 0; count[j] > 0 && e < d; e++) {
                    centroid[j * d + e] = sum[j * d + e] / count[j];
                }
            }
        }
    }

    private static int nearest(double[] x, int row, double[] centroid, int c, int d) {
        int best = 0;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int j = 0; j < c; j++) {
            double distance = 0;
            for (int e = 0; e < d; e++) {
                double diff = x[row + e] - centroid[j * d + e];
                distance += diff * diff;
            }
            if (distance < bestDistance) {
                best = j;
                bestDistance = distance;
            }
        }
        return best;
    }
}
