package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Test support for the attention kernels: seeded inputs and masks, and an independent reference
 * in plain double loops, out_t = Σ_s w(t, s) v_s / Σ_s w(t, s) over allowed keys, where each
 * kernel's test supplies the unnormalised weight w (e.g. exp(score) for softmax attention).
 */
public final class AttentionReference {
    private AttentionReference() {}

    /** Unnormalised attention weight of key s for query t in (batch b, head h). */
    public interface Weight {
        double at(int b, int h, int t, int s);
    }

    public static Tensor randn(long seed, double std, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F64, shape).mul(std);
    }

    /**
     * kind 0: none, 1: causal, 2: document, 3: causal + document. Documents are contiguous runs of
     * random length; causal queries sit at the last T positions (queryOffset = S − T).
     */
    public static AttentionMask mask(int kind, int b, int t, int s, long seed) {
        boolean causal = (kind & 1) != 0;
        Tensor docs = null;
        if ((kind & 2) != 0) {
            Generator g = new Generator(seed ^ 0x5DEECE66DL);
            long[] ids = new long[b * s];
            for (int r = 0; r < b; r++) {
                long id = 0;
                for (int j = 0; j < s; j++) {
                    if (j > 0 && g.nextDouble() < 0.3) {
                        id++;
                    }
                    ids[r * s + j] = id;
                }
            }
            docs = Tensor.of(ids, b, s);
        }
        return new AttentionMask(causal, docs, causal ? s - t : 0);
    }

    /** The reference output (B, H, T, Dv) as a flat double array. */
    public static double[] attend(int[] qShape, double[] v, int[] vShape, AttentionMask mask, Weight w) {
        int bsz = qShape[0], heads = qShape[1], t = qShape[2], s = vShape[2], dv = vShape[3];
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) {
                    double total = 0;
                    double[] acc = new double[dv];
                    for (int j = 0; j < s; j++) {
                        if (!mask.allowed(b, i, j, t, s)) {
                            continue;
                        }
                        double weight = w.at(b, h, i, j);
                        total += weight;
                        for (int c = 0; c < dv; c++) {
                            acc[c] += weight * v[((b * heads + h) * s + j) * dv + c];
                        }
                    }
                    for (int c = 0; c < dv; c++) {
                        out[((b * heads + h) * t + i) * dv + c] = acc[c] / total;
                    }
                }
            }
        }
        return out;
    }

    /** Unnormalised weight of key row kj for query row qi in head h (query t, key s). */
    public interface RowWeight {
        double at(int h, int t, int s, double[] qi, double[] kj);
    }

    /** {@link #attend} with the weight given the query and key rows of contiguous q (B, H, T, D), k (B, H, S, D). */
    public static double[] attendRows(Tensor q, Tensor k, Tensor v, AttentionMask mask, RowWeight w) {
        double[] qa = q.toDoubleArray();
        double[] ka = k.toDoubleArray();
        return attend(q.shape(), v.toDoubleArray(), v.shape(), mask,
                (b, h, t, s) -> w.at(h, t, s, row(qa, q.shape(), b, h, t), row(ka, k.shape(), b, h, s)));
    }

    /** Row (b, h, i) of a contiguous (B, H, L, D) array. */
    public static double[] row(double[] x, int[] shape, int b, int h, int i) {
        int d = shape[3];
        int off = ((b * shape[1] + h) * shape[2] + i) * d;
        return Arrays.copyOfRange(x, off, off + d);
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** A kernel's attention as a function of q, k, v and the mask. */
    public interface Attend {
        Tensor apply(Variable q, Variable k, Variable v, AttentionMask mask);
    }

    /**
     * Asserts that {@code kernel} equals plain softmax attention (to 1e-12) on seeded (2, 2, t, ·)
     * inputs under each of the four {@link #mask} kinds: for kernels whose cut-off (a window, k, a
     * span) is set wide enough that nothing is cut.
     */
    public static void assertSoftmaxUnderEveryMask(int t, int s, Attend kernel) {
        Variable q = Variable.constant(randn(1, 1, 2, 2, t, 4));
        Variable k = Variable.constant(randn(2, 1, 2, 2, s, 4));
        Variable v = Variable.constant(randn(3, 1, 2, 2, s, 3));
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = mask(kind, 2, t, s, 5);
            assertClose(naiveSoftmax(q, k, v, mask).data(), kernel.apply(q, k, v, mask), 1e-12);
        }
    }

    /** Plain softmax attention with Variable ops (exp(q·k/√D) weights), for comparing gradients. */
    public static Variable naiveSoftmax(Variable q, Variable k, Variable v, AttentionMask mask) {
        Variable scores = q.matmul(k.mT()).mul(1 / Math.sqrt(q.size(3))); // (B, H, T, S)
        if (mask.masksAnything()) {
            scores = scores.maskedFill(mask.allowedMatrix(q.size(0), q.size(2), k.size(2)).logicalNot(), Double.NEGATIVE_INFINITY);
        }
        return scores.softmax(-1).matmul(v);
    }

    /** Elementwise |got − expected| ≤ tol·(1 + |expected|); a failure names the worst element. */
    public static void assertClose(double[] expected, Tensor actual, double tol) {
        double[] got = actual.toDoubleArray();
        assertEquals(expected.length, got.length, "length");
        boolean ok = true;
        for (int i = 0; i < got.length; i++) {
            ok &= Math.abs(got[i] - expected[i]) <= tol * (1 + Math.abs(expected[i]));
        }
        if (!ok) {
            int w = worstIndex(expected, got);
            throw new AssertionError("worst mismatch at " + w + " of shape " + Arrays.toString(actual.shape()) + ": expected "
                    + expected[w] + " got " + got[w] + " (tol " + tol + ")");
        }
    }

    public static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertEquals(Arrays.toString(expected.shape()), Arrays.toString(actual.shape()), "shape");
        assertClose(expected.toDoubleArray(), actual, tol);
    }

    private static int worstIndex(double[] e, double[] g) {
        int w = 0;
        double wd = -1;
        for (int i = 0; i < g.length; i++) {
            double d = Math.abs(g[i] - e[i]);
            if (Double.isNaN(d) || d > wd) {
                w = i;
                wd = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
            }
        }
        return w;
    }
}
