package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * The Attention Free Transformer (B12): Zhai, Talbott, Srivastava, Huang, Goh, Zhang, Susskind,
 * "An Attention Free Transformer", 2021 (arXiv:2105.14103). No query–key dot product: each key is
 * weighted per channel by its own value plus a learned pairwise position bias, and the query only
 * gates the result. Per head, elementwise over the D channels, with query t at absolute position
 * p_t = queryOffset + t and key t' at t':
 *
 * <pre>
 *   Y_t = σ(Q_t) ⊙ Σ_{t'} exp(K_{t'} + w_{p_t, t'}) ⊙ V_{t'} / Σ_{t'} exp(K_{t'} + w_{p_t, t'})     (t' allowed by the mask)
 *   AFT-full:    w ∈ R^{maxT × maxT} learned (the parameter {@code position_bias}, shared by heads and channels, as in the paper)
 *   AFT-local:   w_{t,t'} as AFT-full when |t − t'| &lt; s, else 0 (the bias is zeroed, the key stays visible)
 *   AFT-simple:  w = 0, so Y_t = σ(Q_t) ⊙ Σ_{t'} softmax_{t'}(K)_{·} ⊙ V_{t'}        (no parameter; linear time)
 * </pre>
 *
 * The quotient is a softmax over keys of K_{t'} + w_{p_t,t'}, taken separately for every query and
 * channel. Stability follows the paper's implementation: the per-channel maximum of K + w over the
 * allowed keys is subtracted before exp, which the full and local forms get by computing exactly
 * that softmax, over (B, H, rows, D, S) blocks of query rows (O(T·S·D) work and a bounded block of
 * memory, since the max-plus product does not factor into the paper's exp(w)·(exp(K) ⊙ V) matmul
 * once the per-(t, d) maximum is subtracted). AFT-simple unmasked is one softmax of K over time; with
 * a causal and/or document mask it is the paper's linear-time form, prefix sums of exp(K − M) ⊙ V and
 * exp(K − M) restarted at each document run (shared with linear attention, {@link LinearAttentionSums}),
 * where M is each channel's maximum over all the row's keys: the shift cancels, it prevents overflow,
 * but unlike the quadratic forms it is not the maximum over each query's own prefix, so in F32 a prefix
 * whose keys all sit ~87 below a later key of the same channel underflows (a running-max scan would fix
 * that; not done).
 *
 * <p>Causal decoding goes through the KV cache like softmax attention: the queries sit at
 * queryOffset = S − T and read the bias rows from there, so cached decoding equals the full
 * forward. Sequences are limited to maxPositions (the bias's size). w starts at zero (AFT-full
 * then equals AFT-simple at initialisation; the paper does not fix an initialisation). The
 * {@code aft} attention kind is AFT-full; the other variants are built with
 * {@link #AftAttention(Variant, int, int)}. Computed in the inputs' dtype (the F32 bias is cast).
 */
public final class AftAttention extends Module implements AttentionKernel {
    /** The paper's three variants (AFT-conv, the 2-D image form, is not included). */
    public enum Variant { FULL, LOCAL, SIMPLE }

    /** Elements of one (B, H, rows, D, S) block of the quadratic forms; rows are chosen to stay under it. */
    static final long BLOCK_ELEMENTS = 1L << 21;

    private final Variant variant;
    private final int maxPositions;
    private final int window;
    private final Variable positionBias;

    /** AFT-full with a (maxPositions × maxPositions) bias. */
    public AftAttention(int maxPositions) {
        this(Variant.FULL, maxPositions, 0);
    }

    /**
     * @param variant FULL, LOCAL or SIMPLE
     * @param maxPositions the longest sequence (the bias is maxPositions × maxPositions; SIMPLE ignores it)
     * @param window s ≥ 1 of AFT-local (the bias is kept where |t − t'| &lt; s); 0 for the other variants
     */
    public AftAttention(Variant variant, int maxPositions, int window) {
        if (variant == null || maxPositions <= 0 || (variant == Variant.LOCAL) != (window > 0) || window < 0) {
            throw new IllegalArgumentException("AftAttention: need a variant, maxPositions > 0 and a window >= 1 for LOCAL only, got "
                    + variant + ", " + maxPositions + ", " + window);
        }
        this.variant = variant;
        this.maxPositions = maxPositions;
        this.window = window;
        this.positionBias = variant == Variant.SIMPLE ? null
                : parameter("position_bias", Tensor.zeros(DType.F32, maxPositions, maxPositions));
    }

    public Variant variant() {
        return variant;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        checkShapes(q, k, v, mask);
        if (variant == Variant.SIMPLE) {
            return attendSimple(q, k, v, mask);
        }
        int t = q.size(2);
        int s = k.size(2);
        if (mask.queryOffset() + t > maxPositions || s > maxPositions) {
            throw new IllegalArgumentException("AftAttention: positions up to " + Math.max(mask.queryOffset() + t, s)
                    + " exceed maxPositions " + maxPositions);
        }
        return attend(q, k, v, positionBias.to(q.dtype()), window, mask);
    }

    /**
     * AFT-full (window 0) or AFT-local (window s) as a function of the bias w (P × P with
     * P ≥ queryOffset + T and P ≥ S, in the inputs' dtype), so its gradient can be checked like any input's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable w, int window, AttentionMask mask) {
        return attend(q, k, v, w, window, mask, BLOCK_ELEMENTS);
    }

    /** For tests: a small block budget makes short sequences take several query blocks. */
    static Variable attend(Variable q, Variable k, Variable v, Variable w, int window, AttentionMask mask, long blockElements) {
        checkShapes(q, k, v, mask);
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2);
        int off = mask.queryOffset();
        if (w.rank() != 2 || w.size(0) < off + t || w.size(1) < s) {
            throw new IllegalArgumentException("AftAttention: bias " + Arrays.toString(w.shape()) + " does not cover queries at "
                    + off + ".." + (off + t - 1) + " and " + s + " keys");
        }
        Variable bias = w.narrow(0, off, t).narrow(1, 0, s); // (T, S)
        if (window > 0) {
            bias = bias.maskedFill(outsideWindow(off, t, s, window).to(q.data().device()), 0);
        }
        Tensor allowed = mask.masksAnything() ? mask.allowedMatrix(q.data().device(), bsz, t, s) : null; // (B|1, 1, T, S)
        Variable keys = k.mT().unsqueeze(2); // (B, H, 1, D, S)
        Variable values = v.mT().unsqueeze(2); // (B, H, 1, D, S)
        int block = (int) Math.clamp(blockElements / ((long) bsz * heads * d * s), 1, t);
        Variable[] outputs = new Variable[(t + block - 1) / block];
        for (int r = 0; r < outputs.length; r++) {
            int r0 = r * block;
            int rows = Math.min(t, r0 + block) - r0;
            Variable logits = keys.add(bias.narrow(0, r0, rows).unsqueeze(1)); // (B, H, rows, D, S)
            if (allowed != null) {
                logits = logits.maskedFill(allowed.narrow(2, r0, rows).unsqueeze(3).logicalNot(), Double.NEGATIVE_INFINITY);
            }
            Variable mixed = logits.softmax(-1).mul(values).sum(-1); // (B, H, rows, D)
            outputs[r] = q.narrow(2, r0, rows).sigmoid().mul(mixed);
        }
        return outputs.length == 1 ? outputs[0] : Variable.cat(2, outputs); // (B, H, T, D)
    }

    /** AFT-simple (w = 0): linear in T, by prefix sums under a causal or document mask. */
    public static Variable attendSimple(Variable q, Variable k, Variable v, AttentionMask mask) {
        checkShapes(q, k, v, mask);
        Variable gate = q.sigmoid(); // (B, H, T, D)
        if (!mask.masksAnything()) {
            return gate.mul(k.softmax(2).mul(v).sum(true, 2)); // (B, H, T, D)
        }
        int bsz = q.size(0), t = q.size(2), s = k.size(2);
        Variable shift = Variable.constant(k.data().max(true, 2)); // (B, H, 1, D), no gradient: it cancels in the quotient
        Variable e = k.sub(shift).exp(); // (B, H, S, D)
        Variable ev = e.mul(v); // (B, H, S, D)
        int rows = mask.documentIds() == null ? 1 : bsz;
        Variable[] nums = new Variable[rows];
        Variable[] dens = new Variable[rows];
        for (int b = 0; b < rows; b++) {
            LinearAttentionSums.Intervals in = LinearAttentionSums.intervals("AftAttention", mask, b, t, s);
            Tensor end = Tensor.of(in.ends(), t).to(e.data().device());
            nums[b] = LinearAttentionSums.runPrefixSums(rows == 1 ? ev : ev.narrow(0, b, 1), in.runStarts()).indexSelect(2, end);
            dens[b] = LinearAttentionSums.runPrefixSums(rows == 1 ? e : e.narrow(0, b, 1), in.runStarts()).indexSelect(2, end);
        }
        Variable num = rows == 1 ? nums[0] : Variable.cat(0, nums); // (B, H, T, D)
        Variable den = rows == 1 ? dens[0] : Variable.cat(0, dens); // (B, H, T, D)
        return gate.mul(num.div(den));
    }

    /** BOOL (T, S): true where |p_t − t'| ≥ window, the bias entries AFT-local zeroes. */
    static Tensor outsideWindow(int offset, int t, int s, int window) {
        byte[] m = new byte[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                m[i * s + j] = (byte) (Math.abs(offset + i - j) >= window ? 1 : 0);
            }
        }
        return Tensor.of(Storage.wrap(DType.BOOL, m), t, s);
    }

    private static void checkShapes(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("AftAttention", q, k, v, mask);
        if (v.size(3) != q.size(3)) {
            throw new IllegalArgumentException("AftAttention: the gate σ(Q) is elementwise, so v's head size " + v.size(3)
                    + " must equal q's " + q.size(3));
        }
    }
}
