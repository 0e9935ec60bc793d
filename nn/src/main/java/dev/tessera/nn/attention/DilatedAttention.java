package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import java.util.ArrayList;
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
 * Defaults ({@link AttentionKind#DILATED}): w = 4, 8, 16 with r = 1, 2, 4 and head offsets, sized
 * for short contexts.
 *
 * <p>Causal: the mask's causal flag adds j ≤ i inside each sparsified segment (LongNet's language
 * model); the denominators are then those of the causal softmaxes, which the counted form keeps
 * exactly. Segments sit at absolute positions (multiples of w) and the count depends only on
 * positions, so decoding with a KV cache that keeps every key gives the full pass's rows.
 *
 * <p>Cost: every segment of every configuration lies inside one block of L = lcm(w_k) aligned
 * positions, so queries are taken a block at a time against that block's keys only, with the
 * counted pattern masking inside it: O(T·L) work and memory, linear in T for fixed
 * configurations (LongNet's own gather of the kept rows would do O(T·w/r²) per configuration;
 * this form is simpler and exact, and costs up to r² more per block).
 */
public final class DilatedAttention implements AttentionKernel {

    /**
     * @param segments the segment lengths w_k ≥ 1, comma separated ("4,8,16")
     * @param rates the dilation rates r_k ∈ [1, w_k], comma separated, one per segment length ("1,2,4")
     * @param headOffsets whether head h keeps rows from offset h mod r_k (the paper) or from 0
     */
    public record Options(String segments, String rates, boolean headOffsets) {
        public Options {
            int[] w = parse("segments", segments);
            int[] r = parse("rates", rates);
            if (w.length != r.length) {
                throw new IllegalArgumentException("attention dilated: options segments and rates must list as many values, got '" + segments
                        + "' and '" + rates + "'");
            }
            for (int n = 0; n < w.length; n++) {
                if (w[n] < 1 || r[n] < 1 || r[n] > w[n]) {
                    throw new IllegalArgumentException("attention dilated: each rate must be in [1, its segment] with segments >= 1, got "
                            + "segment " + w[n] + " rate " + r[n]);
                }
            }
            segments = join(w);
            rates = join(r);
        }

        /** The w_k. */
        public int[] segmentLengths() {
            return parse("segments", segments);
        }

        /** The r_k. */
        public int[] dilationRates() {
            return parse("rates", rates);
        }

        private static int[] parse(String name, String list) {
            try {
                return java.util.Arrays.stream(list.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("attention dilated: option " + name + " must be comma-separated integers, got '" + list + "'");
            }
        }

        private static String join(int[] values) {
            return java.util.Arrays.stream(values).mapToObj(String::valueOf).collect(java.util.stream.Collectors.joining(","));
        }
    }

    private final Options options;
    private final SparsePattern pattern;
    private final int block; // L = lcm of the segment lengths

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public DilatedAttention(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("DilatedAttention: options are required");
        }
        this.options = options;
        int[] w = options.segmentLengths();
        long l = 1;
        for (int x : w) {
            l = l / gcd(l, x) * x;
        }
        this.block = (int) Math.min(l, Integer.MAX_VALUE);
        int[] r = options.dilationRates();
        int n = w.length;
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
        KernelSupport.checkShapes("DilatedAttention", q, k, v, mask);
        int t = q.size(2);
        int s = k.size(2);
        List<Variable> outputs = new ArrayList<>();
        // every segment lies inside one block of L = lcm(w_k) aligned positions: a block of queries sees only its block of keys
        for (int t0 = 0; t0 < t; ) {
            long first = mask.queryOffset() + (long) t0;
            long lo = first / block * block;
            int rows = (int) Math.min(t - t0, lo + block - first);
            int from = (int) Math.min(lo, s - 1); // a query past the keys sees none of them: any key range gives its zero row
            int to = (int) Math.min(s, Math.max(lo + block, from + 1));
            outputs.add(pattern.attend(q, k, v, mask, t0, rows, from, to)); // (B, H, rows, Dv)
            t0 += rows;
        }
        return outputs.size() == 1 ? outputs.get(0) : Variable.cat(2, outputs.toArray(new Variable[0])); // (B, H, T, Dv)
    }
}
