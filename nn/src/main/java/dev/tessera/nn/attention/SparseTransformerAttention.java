package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;

/**
 * Factorized sparse attention patterns (B6) of Child, Gray, Radford &amp; Sutskever 2019,
 * "Generating Long Sequences with Sparse Transformers" (§4.2), and GPT-3's alternation of dense
 * and locally banded layers (Brown et al. 2020, "Language Models are Few-Shot Learners", §2.1).
 *
 * <p>With stride l, summary width c, query position i and key position j (0-based), a query sees
 * the union A⁽¹⁾ ∪ A⁽²⁾ of the paper's two factors, the "merged head" of §4.3 (each head attends to
 * every position either factor reaches):
 * <pre>
 *   strided:  A⁽¹⁾ = {j : i − l ≤ j ≤ i}      A⁽²⁾ = {j : (i − j) mod l = 0}
 *   fixed:    A⁽¹⁾ = {j : ⌊j/l⌋ = ⌊i/l⌋}      A⁽²⁾ = {j : j mod l ∈ {l − c, …, l − 1}}
 *   out_i = Σ_{j ∈ A⁽¹⁾ ∪ A⁽²⁾} softmax_j(q_i·k_j / √D) v_j      (intersected with the mask: causal, A9 documents)
 * </pre>
 * The paper's patterns are autoregressive; here they are written on positions alone and the
 * {@link AttentionMask}'s causal flag adds j ≤ i, so without it the strided band is two-sided
 * (|i − j| ≤ l) and the stride reaches both ways, while the fixed pattern is unchanged (its summary
 * columns are then also seen by earlier queries). The paper's other two ways of combining the
 * factors (one factor per residual block, or one per head) and the fixed pattern's per-head choice
 * of distinct summary columns are not included.
 * Defaults ({@link AttentionKind}): l = 8, c = 2, sparse already at the short contexts of tests
 * and small runs (the paper uses l = 128, c = 8 … 32).
 *
 * <p><b>GPT-3 alternation</b> ({@link #alternating}): layer ℓ is dense (plain softmax attention) when
 * ℓ is even and locally banded when ℓ is odd, the band being a sliding window of W keys, the query
 * itself and the W − 1 before it ({@link SlidingWindowAttention}). GPT-3 gives no band width; the
 * layer parity and the band follow GPT-Neo, the public replication ({@code attention_types
 * [["global", "local"], L/2]}, {@code window_size}), whose local mask keeps key j for query i when
 * i − W &lt; j ≤ i (default W = 8; GPT-Neo uses 256). GPT-Neo does not scale its scores by 1/√D; this kernel does, as GPT-3 (a GPT-2
 * style transformer) does, and the golden fixture feeds GPT-Neo's attention pre-scaled queries.
 *
 * <p>Decoding: the patterns depend only on positions, so a KV cache that keeps every key gives the
 * full pass's rows. The pattern is applied by {@link SparsePattern} (full T×S scores, masked).
 */
public final class SparseTransformerAttention implements AttentionKernel {

    /** The two factorizations of §4.2. */
    public enum Pattern { STRIDED, FIXED }

    /** @param stride l ≥ 1: the band reach and the stride */
    public record StridedOptions(int stride) {
        public StridedOptions {
            checkStride("strided", stride);
        }
    }

    /**
     * @param stride l ≥ 1: the block length
     * @param summary c ∈ [1, l]: the summary columns at the end of each block
     */
    public record FixedOptions(int stride, int summary) {
        public FixedOptions {
            checkStride("fixed", stride);
            if (summary < 1 || summary > stride) {
                throw new IllegalArgumentException("attention fixed: option summary must be in [1, stride = " + stride + "], got " + summary);
            }
        }
    }

    /** @param window W ≥ 1: the keys an odd (banded) layer's query sees, itself included */
    public record AlternatingOptions(int window) {
        public AlternatingOptions {
            if (window < 1) {
                throw new IllegalArgumentException("attention alternating: option window must be >= 1, got " + window);
            }
        }
    }

    private static void checkStride(String kind, int stride) {
        if (stride < 1) {
            throw new IllegalArgumentException("attention " + kind + ": option stride must be >= 1, got " + stride);
        }
    }

    private final Pattern pattern;
    private final int stride;
    private final int summary;
    private final SparsePattern keys;

    /** The strided pattern (AttentionKind.STRIDED). */
    public SparseTransformerAttention(StridedOptions options) {
        this(Pattern.STRIDED, options.stride(), 1);
    }

    /** The fixed pattern (AttentionKind.FIXED). */
    public SparseTransformerAttention(FixedOptions options) {
        this(Pattern.FIXED, options.stride(), options.summary());
    }

    private SparseTransformerAttention(Pattern pattern, int l, int c) {
        this.pattern = pattern;
        this.stride = l;
        this.summary = c;
        this.keys = switch (pattern) {
            case STRIDED -> (h, i, j, s) -> Math.abs(i - j) <= l || Math.floorMod(i - j, l) == 0 ? 1 : 0;
            case FIXED -> (h, i, j, s) -> j / l == i / l || j % l >= l - c ? 1 : 0;
        };
    }

    public Pattern pattern() {
        return pattern;
    }

    /** l: the stride (strided) or block length (fixed). */
    public int stride() {
        return stride;
    }

    /** c: the fixed pattern's summary columns (1 for strided, where it plays no part). */
    public int summary() {
        return summary;
    }

    /** Whether query position i sees key position j under the pattern alone (before the mask). */
    public boolean sees(int i, int j) {
        return keys.count(0, i, j, Math.max(i, j) + 1) > 0;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        return keys.attend("SparseTransformerAttention", q, k, v, mask);
    }

    /**
     * GPT-3's layer ℓ: {@code dense} for even ℓ, a band of {@code window} keys (W ≥ 1) for odd ℓ.
     */
    public static AttentionKernel alternating(int layer, int window, AttentionKernel dense) {
        if (layer < 0 || window < 1 || dense == null) {
            throw new IllegalArgumentException("SparseTransformerAttention.alternating: need layer >= 0, window >= 1 and a dense kernel, got "
                    + "layer=" + layer + " window=" + window);
        }
        return layer % 2 == 0 ? dense : new SlidingWindowAttention(window);
    }
}
