package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;

import dev.tessera.autograd.GradCheck;
import dev.tessera.tensor.Tensor;

/**
 * Test support for the position-pattern kernels (B6 strided/fixed, B7 dilated, B8 blockwise): the
 * reference out_i = Σ_j c(i, j) exp(q_i·k_j/√D) v_j / Σ_j c(i, j) exp(q_i·k_j/√D) over the keys the
 * mask allows, in plain double loops, with the count c given by each test from its own reading of
 * the paper (a set the paper writes down, or the paper's algorithm step by step).
 */
final class SparsePatternReference {
    private SparsePatternReference() {}

    /** How often query position i sees key position j in head h (S keys). */
    interface Count {
        int at(int h, int i, int j, int keys);
    }

    /** The reference output (B, H, T, Dv), flat. Query t sits at queryOffset + t. */
    static double[] attend(Tensor q, Tensor k, Tensor v, AttentionMask mask, Count count) {
        double[] qa = q.toDoubleArray();
        double[] ka = k.toDoubleArray();
        double scale = 1 / Math.sqrt(q.size(3));
        return AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (b, h, t, j) -> {
            int c = count.at(h, mask.queryOffset() + t, j, k.size(2));
            return c == 0 ? 0 : c * Math.exp(dot(row(qa, q.shape(), b, h, t), row(ka, k.shape(), b, h, j)) * scale);
        });
    }

    /** A row that sees no key is 0/0 = NaN in the reference and a zero row in the kernel: NaN becomes 0 for comparing. */
    static double[] zeroNaN(double[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = Double.isNaN(x[i]) ? 0 : x[i];
        }
        return x;
    }

    /**
     * F64 central differences of the kernel's q, k, v gradients on seeded (2, heads, T, 3) queries and
     * (2, heads, S, ·) keys and values, under each of the given {@link AttentionReference#mask} kinds.
     */
    static void gradCheck(AttentionKernel kernel, int heads, int t, int s, int... maskKinds) {
        for (int kind : maskKinds) {
            AttentionMask mask = AttentionReference.mask(kind, 2, t, s, 9);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, heads, t, 3),
                    AttentionReference.randn(2, 1, 2, heads, s, 3), AttentionReference.randn(3, 1, 2, heads, s, 2));
        }
    }
}
