package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import java.util.List;

/**
 * Dilated attention (B7): Ding et al. 2023, "LongNet: Scaling Transformers to 1,000,000,000 Tokens"
 * (§2.2–2.3). For one configuration (segment length w, dilation rate r) the sequence is cut into
 * segments of w positions; in each, every r-th row is kept (starting at the head's offset s_h), the
 * kept rows attend to each other, and their outputs are scattered back (rows not kept get 0):
 * <pre>
 *   Q̃_m = [Q_{mw+s_h}, Q_{mw+s_h+r}, Q_{mw+s_h+2r}, …] (up to (m+1)w − 1), likewise K̃_m, Ṽ_m
 *   Õ_m = softmax(Q̃_m K̃_mᵀ / √D) Ṽ_m,           O|_{r,w} = scatter of the Õ_m, zero elsewhere
 * </pre>
 * Several configurations (w_k, r_k) are mixed by the softmax denominators s_k of each row:
 * <pre>
 *   O = Σ_k α_k O|_{r_k,w_k},   α_k = s_k / Σ_k' s_k'    (s_k = 0 for a row configuration k does not keep)
 * </pre>
 * which is one softmax over the union of the configurations' keys with each key counted as often
 * as configurations show it, softmax_j(s_ij + ln c(i, j)) ({@link SparsePattern}):
 * c(i, j) = #{k : ⌊i/w_k⌋ = ⌊j/w_k⌋, (i mod w_k − s_hk) ≡ 0 and (j mod w_k − s_hk) ≡ 0 (mod r_k)}.
 * Head offsets: s_hk = h mod r_k, as the paper does so that the heads together cover every row
 * (off: s_hk = 0). The paper uses geometric sequences of w and r, and a configuration with r = 1
 * keeps every row so that no query is left without keys; a row kept by no configuration gets 0.
 *
 * <p>Causal: the mask's causal flag adds j ≤ i inside each sparsified segment (LongNet's language
 * model); the denominators are then those of the causal softmaxes, which the counted form keeps
 * exactly. Segments sit at absolute positions (multiples of w) and the count depends only on
 * positions, so decoding with a KV cache that keeps every key gives the full pass's rows.
 *
 * <p>Cost: exact, but computed as masked T×S scores (quadratic work); LongNet's gather-per-segment
 * form, linear in T, is not implemented here.
 */
public final class DilatedAttention implements AttentionKernel {

    /**
     * @param segments the segment lengths w_k ≥ 1
     * @param rates the dilation rates r_k ∈ [1, w_k], one per segment length
     * @param headOffsets whether head h keeps rows from offset h mod r_k (the paper) or from 0
     */
    public record Options(List<Integer> segments, List<Integer> rates, boolean headOffsets) {
        public Options {
            if (segments == null || rates == null || segments.isEmpty() || segments.size() != rates.size()) {
                throw new IllegalArgumentException("DilatedAttention: options segments and rates must be non-empty lists of one length, got "
                        + segments + " and " + rates);
            }
            segments = List.copyOf(segments);
            rates = List.copyOf(rates);
            for (int n = 0; n < segments.size(); n++) {
                if (segments.get(n) < 1 || rates.get(n) < 1 || rates.get(n) > segments.get(n)) {
                    throw new IllegalArgumentException("DilatedAttention: option rates[" + n + "] must be in [1, segments[" + n + "]] with "
                            + "segments >= 1, got segment " + segments.get(n) + " rate " + rates.get(n));
                }
            }
        }

        /** w = 4, 8, 16 with r = 1, 2, 4 and head offsets: geometric, as in the paper, sized for short contexts. */
        public static final Options DEFAULT = new Options(List.of(4, 8, 16), List.of(1, 2, 4), true);
    }

    private final Options options;
    private final SparsePattern pattern;

    public DilatedAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("DilatedAttention: options are required");
        }
        this.options = options;
        int n = options.segments().size();
        int[] w = options.segments().stream().mapToInt(Integer::intValue).toArray();
        int[] r = options.rates().stream().mapToInt(Integer::intValue).toArray();
        boolean offsets = options.headOffsets();
        this.pattern = (h, i, j, keys) -> {
            int c = 0;
            for (int k = 0; k < n; k++) {
                int s = offsets ? h % r[k] : 0;
                if (i / w[k] == j / w[k] && Math.floorMod(i % w[k] - s, r[k]) == 0 && Math.floorMod(j % w[k] - s, r[k]) == 0) {
                    c++;
                }
            }
            return c;
        };
    }

    public Options options() {
        return options;
    }

    /** How many configurations let query position i see key position j in head h (before the mask). */
    public int count(int head, int i, int j) {
        return pattern.count(head, i, j, Math.max(i, j) + 1);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        return pattern.attend("DilatedAttention", q, k, v, mask);
    }
}
