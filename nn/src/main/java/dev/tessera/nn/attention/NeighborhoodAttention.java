package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;

/**
 * Neighborhood attention (B26) for 1-D sequences: Hassani, Walton, Li, Li, Shi, "Neighborhood
 * Attention Transformer", CVPR 2023 (arXiv:2204.07143), §3.1. Each query attends to its k nearest
 * neighbours, and the window is clamped at the borders instead of shrinking, so every query sees
 * exactly k keys (unlike sliding-window attention, whose edge queries see fewer); a learned
 * relative position bias B is added to the logits. With query i at absolute position
 * p = queryOffset + i, S keys at positions 0 … S−1, k odd and r = (k − 1)/2:
 *
 * <pre>
 *   ρ(p) = [s(p), s(p) + k),   s(p) = clamp(p − r, 0, S − k)      (all S keys when S ≤ k)
 *   out_i = Σ_{j ∈ ρ(p)} softmax_j( q_i·k_j / √D + B_h[j − p + k − 1] ) v_j,   B_h ∈ ℝ^{2k−1}
 * </pre>
 *
 * The bias index j − p + k − 1 is the paper's (and NATTEN's {@code rpb}) relative-position table of
 * 2k − 1 entries per head: a border query whose window is shifted uses the entries further out,
 * which interior queries never reach. Causal variant (the one NATTEN's {@code is_causal} defines):
 * the k previous positions, itself included, clamped at the start (so the first k − 1 queries see
 * fewer keys, never future ones):
 *
 * <pre>
 *   ρ_causal(p) = [max(0, p − k + 1), p]                                 (bias entries 0 … k − 1)
 * </pre>
 *
 * The causal window and its bias depend only on p − j, so decoding through a KV cache (queries at
 * queryOffset = S − T) gives the full forward's rows. A document mask (A9) is intersected with the
 * window (a query always keeps itself). The bias is the kernel-owned parameter {@code rpb} (H, 2k − 1),
 * initialised N(0, 0.02²) as NAT's trunc_normal(std = .02); the computation runs in the inputs'
 * dtype. Cost: queries are taken in row blocks, each attending only to the keys its rows' windows
 * span, so the work is O(T·(R + k)), linear in T for a fixed k (as {@link SlidingWindowAttention}).
 */
public final class NeighborhoodAttention extends Module implements AttentionKernel {
    /** Query rows per block ({@code -Dtessera.attention.neighborhoodBlock}). */
    static final int BLOCK = Integer.getInteger("tessera.attention.neighborhoodBlock", 64);
    /** Std of the N(0, σ²) initialisation of the bias table. */
    public static final double BIAS_INIT_STD = 0.02;

    /**
     * @param kernelSize k, the neighbours each query attends to (odd, ≥ 1: the window is centred on the
     *     query); {@link AttentionKind#NEIGHBORHOOD} defaults it to NAT's 7
     */
    public record Options(int kernelSize) {
        public Options {
            if (kernelSize < 1 || kernelSize % 2 == 0) {
                throw new IllegalArgumentException("attention neighborhood: option kernel_size must be an odd integer >= 1, got "
                        + kernelSize);
            }
        }
    }

    private final Options options;
    private final int heads;
    private final Variable rpb;

    public NeighborhoodAttention(Options options, int heads, Generator g) {
        if (options == null || heads <= 0 || g == null) {
            throw new IllegalArgumentException("NeighborhoodAttention: need options, heads > 0 and a generator, got " + options + ", "
                    + heads + ", " + g);
        }
        this.options = options;
        this.heads = heads;
        this.rpb = parameter("rpb", Init.normal(g, BIAS_INIT_STD, heads, 2 * options.kernelSize() - 1));
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("NeighborhoodAttention", q, k, v, mask, heads, 0);
        return attend(q, k, v, rpb.to(q.dtype()), options.kernelSize(), mask, BLOCK);
    }

    /**
     * The kernel as a function of the bias table (H, 2k − 1) in the inputs' dtype, so its gradient
     * can be checked like any input's; {@code block} query rows at a time.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable bias, int kernelSize, AttentionMask mask, int block) {
        KernelSupport.checkShapes("NeighborhoodAttention", q, k, v, mask);
        new Options(kernelSize); // validates k
        int h = q.size(1), t = q.size(2), s = k.size(2);
        if (bias.rank() != 2 || bias.size(0) != h || bias.size(1) != 2 * kernelSize - 1 || block < 1) {
            throw new IllegalArgumentException("NeighborhoodAttention: bias must be (H, 2k − 1) = [" + h + ", " + (2 * kernelSize - 1)
                    + "] and block >= 1, got " + java.util.Arrays.toString(bias.shape()) + ", block " + block);
        }
        double alpha = LogitScale.inverseSqrt(q.size(-1));
        return KernelSupport.byRowBlocks(t, block, (r0, rows) -> {
            int first = mask.queryOffset() + r0;
            int lo = windowStart(first, s, kernelSize, mask.causal());
            int hi = windowEnd(first + rows - 1, s, kernelSize, mask.causal());
            int width = hi - lo;
            int n = mask.documentIds() == null ? 1 : q.size(0);
            byte[] allowed = new byte[n * rows * width];
            long[] index = new long[rows * width]; // bias entry j − p + k − 1, clamped into the table where not allowed
            for (int b = 0; b < n; b++) {
                long[] ids = KernelSupport.documentRow(mask, b);
                for (int i = 0; i < rows; i++) {
                    int p = first + i;
                    int ws = windowStart(p, s, kernelSize, mask.causal());
                    int we = windowEnd(p, s, kernelSize, mask.causal());
                    long doc = ids == null ? 0 : ids[s - t + r0 + i];
                    for (int j = lo; j < hi; j++) {
                        boolean ok = j >= ws && j < we && (ids == null || ids[j] == doc);
                        allowed[(b * rows + i) * width + j - lo] = (byte) (ok ? 1 : 0);
                        index[i * width + j - lo] = Math.clamp(j - p + kernelSize - 1L, 0, 2 * kernelSize - 2);
                    }
                }
            }
            Variable b = bias.indexSelect(1, OnDevice.of(Tensor.of(index, rows * width), bias)).view(1, h, rows, width); // (1, H, rows, width)
            Variable scores = q.narrow(2, r0, rows).matmul(k.narrow(2, lo, width).mT()).mul(alpha).add(b); // (B, H, rows, width)
            Tensor mask4 = Tensor.of(Storage.wrap(DType.BOOL, allowed), n, 1, rows, width);
            Variable prob = new MaskedSoftmaxFunction(mask4, 1).call(scores);
            return prob.matmul(v.narrow(2, lo, width)); // (B, H, rows, Dv)
        }); // (B, H, T, Dv)
    }

    /** First key of query position p's window among S keys. */
    static int windowStart(int p, int s, int kernelSize, boolean causal) {
        if (causal) {
            return Math.max(0, p - kernelSize + 1);
        }
        return s <= kernelSize ? 0 : Math.clamp(p - (kernelSize - 1) / 2, 0, s - kernelSize);
    }

    /** One past the last key of query position p's window among S keys. */
    static int windowEnd(int p, int s, int kernelSize, boolean causal) {
        return causal ? Math.min(p + 1, s) : Math.min(windowStart(p, s, kernelSize, false) + kernelSize, s);
    }
}
