package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import java.util.Arrays;

/**
 * Shared checks and masking for attention kernels (KeyNorm, ALiBi, Performer, memory-efficient):
 * validates the {@link AttentionKernel} shapes once at the boundary and turns an
 * {@link AttentionMask} into −∞ scores. Public because kernels that are position schemes (ALiBi)
 * live in {@code nn.position}.
 */
public final class KernelSupport {
    private KernelSupport() {}

    /** q (B, H, T, D), k (B, H, S, D), v (B, H, S, Dv) with S ≥ T; all the same floating dtype. */
    public static void checkShapes(String op, Variable q, Variable k, Variable v, AttentionMask mask) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) {
            throw new IllegalArgumentException(op + ": q, k, v must be (B, H, T, D), got " + Arrays.toString(q.shape()) + ", "
                    + Arrays.toString(k.shape()) + ", " + Arrays.toString(v.shape()));
        }
        int[] qs = q.shape();
        int[] ks = k.shape();
        int[] vs = v.shape();
        if (qs[0] != ks[0] || qs[1] != ks[1] || qs[3] != ks[3] || ks[0] != vs[0] || ks[1] != vs[1] || ks[2] != vs[2]) {
            throw new IllegalArgumentException(op + ": shapes q " + Arrays.toString(qs) + ", k " + Arrays.toString(ks) + ", v "
                    + Arrays.toString(vs) + " do not match (need q (B, H, T, D), k (B, H, S, D), v (B, H, S, Dv))");
        }
        if (!q.dtype().isFloating() || q.dtype() != k.dtype() || k.dtype() != v.dtype()) {
            throw new IllegalArgumentException(op + ": q, k, v must share one floating dtype, got " + q.dtype() + ", " + k.dtype()
                    + ", " + v.dtype());
        }
        if (mask == null) {
            throw new IllegalArgumentException(op + ": mask must not be null (use AttentionMask.NONE)");
        }
        if (mask.documentIds() != null) {
            int[] ds = mask.documentIds().shape();
            if (ds[0] != qs[0] || ds[1] != ks[2]) {
                throw new IllegalArgumentException(op + ": documentIds " + Arrays.toString(ds) + " must be (B, S) = [" + qs[0] + ", "
                        + ks[2] + "]");
            }
        }
        if (qs[2] > ks[2]) {
            throw new IllegalArgumentException(op + ": more queries than keys (T " + qs[2] + " > S " + ks[2] + ")");
        }
    }

    /** One block of query rows r0 … r0 + rows − 1 attended on its own → (B, H, rows, Dv). */
    interface RowBlock {
        Variable attend(int r0, int rows);
    }

    /**
     * The T query rows in blocks of {@code block}, each attended by {@code fn}, concatenated along
     * the rows → (B, H, T, Dv): for banded kernels (sliding window, neighborhood) whose blocks need
     * only the keys their rows can see.
     */
    static Variable byRowBlocks(int t, int block, RowBlock fn) {
        int blocks = (t + block - 1) / block;
        Variable[] outputs = new Variable[blocks];
        for (int r = 0; r < blocks; r++) {
            int r0 = r * block;
            outputs[r] = fn.attend(r0, Math.min(t, r0 + block) - r0);
        }
        return blocks == 1 ? outputs[0] : Variable.cat(2, outputs); // (B, H, T, Dv)
    }

    /** {@link #checkShapes} for a kernel built for {@code heads} heads of size {@code headDim} (any size when 0). */
    public static void checkShapes(String op, Variable q, Variable k, Variable v, AttentionMask mask, int heads, int headDim) {
        checkShapes(op, q, k, v, mask);
        if (q.size(1) != heads || (headDim > 0 && q.size(3) != headDim)) {
            throw new IllegalArgumentException(op + ": built for " + heads + " heads" + (headDim > 0 ? " of size " + headDim : "")
                    + ", got q " + Arrays.toString(q.shape()));
        }
    }

    /** Scores (B, H, T, S) with −∞ where the mask forbids attention; unchanged when nothing is masked. */
    public static Variable maskScores(Variable scores, AttentionMask mask) {
        if (!mask.masksAnything()) {
            return scores;
        }
        int b = scores.size(0);
        int t = scores.size(2);
        int s = scores.size(3);
        return scores.maskedFill(mask.allowedMatrix(scores.data().device(), b, t, s).logicalNot(), Double.NEGATIVE_INFINITY);
    }

    /** Document ids of batch row b as a long[S], or null without a document mask. */
    public static long[] documentRow(AttentionMask mask, int b) {
        if (mask.documentIds() == null) {
            return null;
        }
        return mask.documentIds().select(0, b).toLongArray();
    }
}
