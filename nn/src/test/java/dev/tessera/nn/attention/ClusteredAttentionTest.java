package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ClusteredAttentionTest {

    private static ClusteredAttention kernel(int clusters, int iterations) {
        return new ClusteredAttention(new ClusteredAttention.Options(clusters, iterations));
    }

    /**
     * Given the clustering, the output is the naive double-precision attention of each query's
     * cluster centroid (the mean of its members' queries): out_i = Σ_j softmax_j(μ_{c(i)}·k_j/√D) v_j.
     */
    @Property(tries = 60)
    void eachQueryGetsItsCentroidsAttention(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 5) int clusters,
            @ForAll @IntRange(min = 0, max = 4) int iterations, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        int c = Math.min(clusters, t);
        int[][] assignment = new int[b * h][];
        for (int bh = 0; bh < b * h; bh++) {
            assignment[bh] = ClusteredAttention.cluster(qa, bh * t * d, t, d, c, iterations);
        }
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), AttentionMask.NONE, (bb, hh, i, j) -> {
            int[] a = assignment[bb * h + hh];
            double[] mean = new double[d];
            int members = 0;
            for (int m = 0; m < t; m++) {
                if (a[m] == a[i]) {
                    members++;
                    double[] qm = row(qa, q.shape(), bb, hh, m);
                    for (int e = 0; e < d; e++) {
                        mean[e] += qm[e];
                    }
                }
            }
            for (int e = 0; e < d; e++) {
                mean[e] /= members;
            }
            return Math.exp(dot(mean, row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d));
        });
        Variable out = kernel(clusters, iterations).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.NONE);
        AttentionReference.assertClose(expected, out.data(), 1e-10);
    }

    /**
     * The clustering is K-means: converged, every query is nearest (in Euclidean distance) to the mean of
     * its own cluster among all cluster means — Lloyd's fixed point, checked without running Lloyd.
     */
    @Property(tries = 60)
    void convergedClustersAreAFixedPointOfLloyd(@ForAll @IntRange(min = 1, max = 12) int t, @ForAll @IntRange(min = 1, max = 4) int d,
            @ForAll @IntRange(min = 1, max = 5) int clusters, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        double[] x = AttentionReference.randn(seed, 1, 1, 1, t, d).toDoubleArray();
        int c = Math.min(clusters, t);
        int[] a = ClusteredAttention.cluster(x, 0, t, d, c, 100);
        double[][] mean = new double[c][d];
        int[] count = new int[c];
        for (int i = 0; i < t; i++) {
            count[a[i]]++;
            for (int e = 0; e < d; e++) {
                mean[a[i]][e] += x[i * d + e];
            }
        }
        for (int i = 0; i < t; i++) {
            double own = distance(x, i, d, mean[a[i]], count[a[i]]);
            for (int j = 0; j < c; j++) {
                if (count[j] > 0) {
                    assertTrue(own <= distance(x, i, d, mean[j], count[j]) + 1e-12, "query " + i + " is nearer to cluster " + j);
                }
            }
        }
    }

    private static double distance(double[] x, int i, int d, double[] sum, int count) {
        double total = 0;
        for (int e = 0; e < d; e++) {
            double diff = x[i * d + e] - sum[e] / count;
            total += diff * diff;
        }
        return total;
    }

    /** Well-separated groups of queries are recovered exactly, whatever order they come in. */
    @Test
    void recoversSeparatedGroups() {
        double[][] centres = {{10, 0}, {0, 10}, {-10, -10}};
        int[] group = {2, 0, 1, 1, 2, 0, 0, 2, 1, 1};
        double[] noise = AttentionReference.randn(7, 0.3, group.length, 2).toDoubleArray();
        double[] x = new double[group.length * 2];
        for (int i = 0; i < group.length; i++) {
            x[2 * i] = centres[group[i]][0] + noise[2 * i];
            x[2 * i + 1] = centres[group[i]][1] + noise[2 * i + 1];
        }
        int[] a = ClusteredAttention.cluster(x, 0, group.length, 2, 3, 10);
        for (int i = 0; i < group.length; i++) {
            for (int j = 0; j < group.length; j++) {
                assertEquals(group[i] == group[j], a[i] == a[j], "queries " + i + ", " + j);
            }
        }
    }

    /** With C ≥ T every query is its own cluster: exact softmax attention. */
    @Test
    void asManyClustersAsQueriesIsSoftmaxAttention() {
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 2, 2, 6, 4));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 2, 2, 8, 4));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 2, 2, 8, 3));
        AttentionReference.assertClose(AttentionReference.naiveSoftmax(q, k, v, AttentionMask.NONE).data(),
                kernel(6, 3).attend(q, k, v, AttentionMask.NONE).data(), 1e-12);
        AttentionReference.assertClose(AttentionReference.naiveSoftmax(q, k, v, AttentionMask.NONE).data(),
                kernel(50, 0).attend(q, k, v, AttentionMask.NONE).data(), 1e-12);
    }

    /** Gradients reach q through the centroids, and k and v, by F64 finite differences (the clustering is held fixed by the data). */
    @Test
    void gradientsMatchFiniteDifferences() {
        ClusteredAttention kernel = kernel(3, 5);
        GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], AttentionMask.NONE), AttentionReference.randn(1, 1, 2, 2, 7, 3),
                AttentionReference.randn(2, 1, 2, 2, 9, 3), AttentionReference.randn(3, 1, 2, 2, 9, 2));
    }

    @Test
    void isBidirectionalOnlyAndNamedWithItsOptions() {
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> kernel(2, 1).attend(x, x, x, AttentionMask.causalOnly()));
        assertEquals("ClusteredAttention: the queries of a cluster share one row of weights, so it is bidirectional only; got a causal "
                + "or document mask", e.getMessage());
        assertEquals(new ClusteredAttention.Options(4, 10), AttentionKind.CLUSTERED.options(Map.of("clusters", "4")));
        assertEquals("attention clustered: option clusters must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.CLUSTERED.options(Map.of("clusters", "0"))).getMessage());
        assertTrue(!AttentionKind.CLUSTERED.causal());
        var c = MultiHeadAttention.Config.llama(8, 2, 2, 16).withDtype(DType.F64)
                .withAttention(AttentionKind.CLUSTERED, new ClusteredAttention.Options(3, 2));
        Variable out = new MultiHeadAttention(c, new dev.tessera.tensor.Generator(1)).forward(
                Variable.constant(AttentionReference.randn(4, 1, 2, 5, 8)), AttentionMask.NONE);
        assertArrayEquals(new int[] {2, 5, 8}, out.shape());
    }
}
