package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;

/**
 * Sliding-window (local) attention (B5): softmax attention in which each query sees only the keys
 * within W positions of it. Beltagy, Peters &amp; Cohan 2020, "Longformer: The Long-Document
 * Transformer" (the local window, §3.1), and the causal form of Jiang et al. 2023, "Mistral 7B"
 * ({@code sliding_window}). With query i at absolute position p_i = queryOffset + i and key j at j:
 * <pre>
 *   causal mask (Mistral):        j allowed ⇔ p_i − W &lt; j ≤ p_i       (W keys: itself and W − 1 before)
 *   no causal mask (Longformer):  j allowed ⇔ |p_i − j| &lt; W            (2W − 1 keys centred on p_i)
 *   out_i = Σ_{j allowed} softmax_j(q_i·k_j / √D) v_j     (and the mask's document rule, A9)
 * </pre>
 * So the window is one rule, |p_i − j| &lt; W, intersected with the {@link AttentionMask}: its causal
 * flag picks the one-sided (decoder) or two-sided (encoder) band. The convention is Hugging Face's
 * {@code sliding_window_causal_mask_function} ({@code kv_idx > q_idx − sliding_window}): W counts
 * the query's own position, so W = 1 is attention to oneself only. (Longformer's paper speaks of a
 * window of size w with w/2 tokens on each side; here W is the reach including the centre, W − 1
 * per side.)
 *
 * <p>Cost: queries are taken in row blocks of R; a block attends only to the keys any of its rows
 * may see, so the work is O(T·(R + 2W)) rather than O(T·S), linear in T for a fixed W. Each block
 * is a fused masked softmax between two products, recorded through autograd (the narrowed views
 * route gradients back into q, k and v). When decoding, only the last W − 1 keys are needed:
 * {@link KvCache#slidingWindow(int)} keeps just those, and the band only depends on p_i − j, which
 * is why the caller may re-anchor the mask on the kept keys ({@link AttentionMask#forCachedKeys}).
 */
public final class SlidingWindowAttention implements AttentionKernel {
    /** Query rows per block at least ({@code -Dtessera.attention.windowBlock}); a block is max(this, W). */
    static final int MIN_BLOCK = Integer.getInteger("tessera.attention.windowBlock", 64);

    /** @param window W ≥ 1: the number of positions a causal query sees, itself included */
    public record Options(int window) {
        public Options {
            if (window < 1) {
                throw new IllegalArgumentException("attention sliding_window: option window must be >= 1, got " + window);
            }
        }
    }

    private final int window;
    private final int block;

    /** @param window W ≥ 1: the number of positions a causal query sees, itself included */
    public SlidingWindowAttention(int window) {
        this(window, Math.max(MIN_BLOCK, window));
    }

    public SlidingWindowAttention(Options options) {
        this(options.window());
    }

    /** For tests: a small block makes short sequences take several blocks. */
    SlidingWindowAttention(int window, int block) {
        if (window < 1 || block < 1) {
            throw new IllegalArgumentException("SlidingWindowAttention: window and block must be >= 1, got window=" + window + " block="
                    + block);
        }
        this.window = window;
        this.block = block;
    }

    public int window() {
        return window;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("SlidingWindowAttention", q, k, v, mask);
        int t = q.size(2);
        int s = k.size(2);
        double alpha = LogitScale.inverseSqrt(q.size(-1));
        int blocks = (t + block - 1) / block;
        Variable[] outputs = new Variable[blocks];
        for (int r = 0; r < blocks; r++) {
            int r0 = r * block;
            int rows = Math.min(t, r0 + block) - r0;
            int first = mask.queryOffset() + r0; // position of the block's first query
            int lo = Math.clamp(first - window + 1L, 0, s);
            int hi = Math.clamp(mask.causal() ? first + rows : first + rows - 1L + window, lo, s);
            Tensor allowed = allowed(mask, q.size(0), r0, rows, t, lo, hi, s); // (B or 1, 1, rows, hi − lo)
            Variable scores = q.narrow(2, r0, rows).matmul(k.narrow(2, lo, hi - lo).mT()); // (B, H, rows, hi − lo)
            Variable p = new MaskedSoftmaxFunction(allowed, alpha).call(scores);
            outputs[r] = p.matmul(v.narrow(2, lo, hi - lo)); // (B, H, rows, Dv)
        }
        return blocks == 1 ? outputs[0] : Variable.cat(2, outputs); // (B, H, T, Dv)
    }

    /**
     * BOOL (B or 1, 1, rows, hi − lo): whether query r0 + i may see key lo + j under the mask and the
     * window. Built per block, so the full T×S matrix never exists.
     */
    Tensor allowed(AttentionMask mask, int batch, int r0, int rows, int queries, int lo, int hi, int keys) {
        int n = documentsOrOne(mask, batch);
        int width = hi - lo;
        byte[] m = new byte[n * rows * width];
        for (int b = 0; b < n; b++) {
            long[] ids = KernelSupport.documentRow(mask, b);
            for (int i = 0; i < rows; i++) {
                int position = mask.queryOffset() + r0 + i;
                long doc = ids == null ? 0 : ids[keys - queries + r0 + i];
                for (int j = lo; j < hi; j++) {
                    boolean ok = Math.abs(position - j) < window && (!mask.causal() || j <= position) && (ids == null || ids[j] == doc);
                    m[(b * rows + i) * width + j - lo] = (byte) (ok ? 1 : 0);
                }
            }
        }
        return Tensor.of(Storage.wrap(DType.BOOL, m), n, 1, rows, width);
    }

    /** Whether query position p may see key position j under the window alone (for references and tests). */
    public boolean inWindow(int p, int j) {
        return Math.abs(p - j) < window;
    }

    private static int documentsOrOne(AttentionMask mask, int batch) {
        return mask.documentIds() == null ? 1 : batch;
    }
}
