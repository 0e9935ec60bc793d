package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import java.util.stream.IntStream;

/**
 * Blockwise self-attention (B8): Qiu, Ma, Levy, Yih, Wang &amp; Tang 2020, "Blockwise Self-Attention
 * for Long Document Understanding" (BlockBERT, §3). The S positions are cut into n blocks of S/n;
 * head h lets the queries of block i attend only to the keys of block π_h(i), for a permutation
 * π_h of the blocks:
 * <pre>
 *   M_h[i, j] = 1 ⇔ π_h(⌊i·n/S⌋) = ⌊j·n/S⌋                (i, j positions; S divisible by n)
 *   out_h = softmax(Q_h K_hᵀ / √D + (M_h − 1)·∞) V_h         (and the mask's document rule, A9)
 * </pre>
 * The permutations are the paper's cyclic shifts, π(i) = (i + k) mod n (its Figure 2: identity and
 * the shifted blocks); head h uses shift k_h = shifts[h mod |shifts|], so the default
 * 0, 1, …, n − 1 gives each shift to every n-th head, and a list such as "0,0,0,1" gives the
 * paper's uneven allocations of heads to permutations (its 10:2-style ratios). Defaults (AttentionKind):
 * n = 2, the paper's setting for 512 tokens.
 *
 * <p><b>Bidirectional only.</b> A shifted block is (for all but the last) a later one, so the
 * pattern looks ahead and cannot be made causal: a causal mask is refused, and the causal decoders
 * refuse the kind (a BERT-style encoder is where it belongs). Block sizes come from S, the number of
 * keys; a mask whose queries are fewer than the keys places query t at queryOffset + t.
 *
 * <p>Cost: exact, computed as masked T×S scores ({@link SparsePattern}); the paper's O(S²/n)
 * form that multiplies only the matching blocks is not implemented here.
 */
public final class BlockwiseAttention implements AttentionKernel {

    /**
     * @param blocks n ≥ 1
     * @param shifts each head's cyclic shift k ∈ [0, n), comma separated and cycled over the heads
     *     ("0,0,0,1"); empty for head h shifted by h mod n
     */
    public record Options(int blocks, String shifts) {
        public Options {
            if (blocks < 1 || shifts == null) {
                throw new IllegalArgumentException("attention blockwise: option blocks must be >= 1, got " + blocks);
            }
            shifts = shifts.replace(" ", "");
            for (int k : parse(blocks, shifts)) {
                if (k < 0 || k >= blocks) {
                    throw new IllegalArgumentException("attention blockwise: option shifts must lie in [0, blocks = " + blocks + "), got '"
                            + shifts + "'");
                }
            }
        }

        /** n blocks, head h shifted by h mod n. */
        public Options(int blocks) {
            this(blocks, "");
        }

        /** Each head's shift in turn (0, 1, …, n − 1 when none are given). */
        public int[] headShifts() {
            return parse(blocks, shifts);
        }

        private static int[] parse(int blocks, String shifts) {
            if (shifts.isEmpty()) {
                return IntStream.range(0, blocks).toArray();
            }
            try {
                return java.util.Arrays.stream(shifts.split(",")).mapToInt(Integer::parseInt).toArray();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("attention blockwise: option shifts must be comma-separated integers, got '" + shifts + "'");
            }
        }
    }

    private final Options options;
    private final SparsePattern pattern;

    public BlockwiseAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("BlockwiseAttention: options are required");
        }
        this.options = options;
        int n = options.blocks();
        int[] shifts = options.headShifts();
        this.pattern = (h, i, j, keys) -> {
            int size = keys / n;
            return (i / size + shifts[h % shifts.length]) % n == j / size ? 1 : 0;
        };
    }

    public Options options() {
        return options;
    }

    /** Whether query position i sees key position j in head h, with S keys. */
    public boolean sees(int head, int i, int j, int keys) {
        return pattern.count(head, i, j, keys) > 0;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        if (mask != null && mask.causal()) {
            throw new IllegalArgumentException("BlockwiseAttention: bidirectional only (shifted blocks look ahead); got a causal mask");
        }
        int s = k.size(2);
        if (s % options.blocks() != 0) {
            throw new IllegalArgumentException("BlockwiseAttention: the " + s + " keys do not split into " + options.blocks() + " equal blocks");
        }
        return pattern.attend("BlockwiseAttention", q, k, v, mask);
    }
}
