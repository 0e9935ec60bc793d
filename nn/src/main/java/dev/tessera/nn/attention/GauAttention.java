package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The gated attention unit and FLASH (B30): Hua, Dai, Liu, Le, "Transformer Quality in Linear
 * Time", ICML 2022. GAU computes one head of attention from a small shared Z, with squared-ReLU
 * weights instead of a softmax (no normalisation over keys), and gates the result by U:
 *
 * <pre>
 *   U = φ(X W_u), V = φ(X W_v), Z = φ(X W_z)            (φ = SiLU; Z of small width s)
 *   Q = γ_q ⊙ Z + β_q,  K = γ_k ⊙ Z + β_k              (per-dimension scale and offset)
 *   A = relu²(Q Kᵀ / n + b),  O = (U ⊙ A V) W_o         (b a relative position bias, n the sequence length)
 * </pre>
 *
 * FLASH (the paper's mixed chunk attention) makes it linear in T: split the positions into chunks of C; each
 * query attends quadratically (relu², causal) within its chunk and linearly, through a second pair of
 * scale-offsets Q', K', to every earlier chunk:
 *
 * <pre>
 *   O_i = Σ_{j in i's chunk, j ≤ i} relu²(Q_i·K_j / C + b_{i−j}) v_j  +  Q'_i · Σ_{j in earlier chunks} K'_jᵀ v_j / C
 * </pre>
 *
 * <p>Fitted to the kernel seam, which sees only the model's per-head q, k (after RoPE) and v, this is
 * the middle of GAU: Q = γ_q ⊙ q + β_q, K = γ_k ⊙ k + β_k per head (scale, offset (H, D); 1 and 0 at
 * the start), A = relu²(QKᵀ/n + b) with a learned bias per head and relative distance (clipped at
 * ±(maxT − 1), 0 at the start), out = A v. Named departures: Q and K come from the model's two
 * projections, not from one shared Z; the U gate, φ on U, V, Z and W_o are the block's (U ⊙ needs the
 * block input X, which a kernel never sees), so GAU's replacing the FFN too is not reproduced; heads
 * are the model's (GAU has one); and n is the model's context length maxT, not the length of the
 * batch's sequence, so a query's output does not depend on how many tokens follow or sit in a cache
 * (the paper trains at full length, where the two agree).
 *
 * <p>{@link Options#chunk} 0 (the default) gives GAU ({@link #gau}, any mask, bidirectional too);
 * C &gt; 0 gives causal FLASH, computed in {@link #attend} chunk by chunk in O(T·C·D + T·D·Dv) with the
 * running Σ K'ᵀv ({@link #flashChunked}), equal to the T × S weight form {@link #flashFull}. Document
 * masks zero the weights across documents; the chunked form restarts its running sum at each
 * document's first position (documents must be contiguous runs there); chunks are aligned to
 * absolute positions, so a KV cache (queries at the last T of S positions) gives the full forward.
 */
public final class GauAttention extends Module implements AttentionKernel {

    /**
     * The kind's options ({@code --attention-option chunk=C}, config.json {@code tessera.attention_options}).
     *
     * @param chunk 0 for GAU (quadratic), else FLASH's chunk length C
     */
    public record Options(int chunk) {
        public Options {
            if (chunk < 0) {
                throw new IllegalArgumentException("attention gau: option chunk must be >= 0 (0 = GAU, C = FLASH chunks), got " + chunk);
            }
        }
    }

    /** The weights in one dtype: quadratic and (FLASH only, else null) linear scale-offsets (H, D), bias (H, 2·maxT − 1). */
    public record Weights(Variable qScale, Variable qOffset, Variable kScale, Variable kOffset, Variable relPosBias, Variable linQScale,
            Variable linQOffset, Variable linKScale, Variable linKOffset) {}

    private final int heads;
    private final int maxPositions;
    private final Options options;
    private final Variable[] params;

    public GauAttention(int heads, int headDim, int maxPositions) {
        this(heads, headDim, maxPositions, new Options(0));
    }

    public GauAttention(int heads, int headDim, int maxPositions, Options options) {
        if (heads <= 0 || headDim <= 0 || maxPositions <= 0) {
            throw new IllegalArgumentException("GauAttention: heads, headDim and maxPositions must be positive, got " + heads + ", "
                    + headDim + ", " + maxPositions);
        }
        this.heads = heads;
        this.maxPositions = maxPositions;
        this.options = options;
        List<Variable> p = new ArrayList<>();
        for (String prefix : options.chunk() == 0 ? new String[] {""} : new String[] {"", "lin_"}) {
            p.add(parameter(prefix + "q_scale", Tensor.ones(DType.F32, heads, headDim)));
            p.add(parameter(prefix + "q_offset", Tensor.zeros(DType.F32, heads, headDim)));
            p.add(parameter(prefix + "k_scale", Tensor.ones(DType.F32, heads, headDim)));
            p.add(parameter(prefix + "k_offset", Tensor.zeros(DType.F32, heads, headDim)));
            if (prefix.isEmpty()) {
                p.add(parameter("rel_pos_bias", Tensor.zeros(DType.F32, heads, 2 * maxPositions - 1)));
            }
        }
        this.params = p.toArray(Variable[]::new);
    }

    public Options options() {
        return options;
    }

    /** This kernel's parameters in {@code dtype} (cast views that keep their gradients flowing to the F32 parameters). */
    public Weights weights(DType dtype) {
        Variable[] w = new Variable[9];
        for (int i = 0; i < params.length; i++) {
            w[i] = params[i].to(dtype);
        }
        return new Weights(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8]);
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        if (q.size(1) != heads) {
            throw new IllegalArgumentException("GauAttention: made for " + heads + " heads, got q " + Arrays.toString(q.shape()));
        }
        Weights w = weights(q.dtype());
        return options.chunk() == 0 ? gau(q, k, v, w, mask, maxPositions) : flashChunked(q, k, v, w, mask, options.chunk());
    }

    /** γ ⊙ x + β per head: x (B, H, L, D), γ, β (H, D). */
    static Variable affine(Variable x, Variable scale, Variable offset) {
        int h = scale.size(0), d = scale.size(1);
        return x.mul(scale.view(1, h, 1, d)).add(offset.view(1, h, 1, d));
    }

    /** b (1, H, rows, cols) at relative distance (first + i) − j, clipped to ±(maxT − 1). */
    static Variable bias(Variable relPosBias, int first, int rows, int cols) {
        int m = (relPosBias.size(1) + 1) / 2;
        long[] idx = new long[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                idx[i * cols + j] = Math.clamp(first + i - j, 1 - m, m - 1) + m - 1;
            }
        }
        return relPosBias.indexSelect(1, OnDevice.of(Tensor.of(idx, rows * cols), relPosBias)).view(1, relPosBias.size(0), rows, cols);
    }

    /** relu²(Q Kᵀ / n + b) for Q, K (…, rows, D), the bias from relative distance (first + i) − j. */
    private static Variable relu2(Variable qa, Variable ka, Variable relPosBias, int first, double n) {
        return qa.matmul(ka.mT()).div(n).add(bias(relPosBias, first, qa.size(2), ka.size(2))).relu().square();
    }

    private static Variable allowed(AttentionMask mask, int b, int t, int s, Variable like) {
        return OnDevice.constant(mask.allowedMatrix(b, t, s), like); // (B|1, 1, T, S)
    }

    /** GAU with the weights as inputs (so their gradients can be checked like q, k, v's): out = relu²(QKᵀ/n + b) v, 0 where masked. */
    public static Variable gau(Variable q, Variable k, Variable v, Weights w, AttentionMask mask, int n) {
        KernelSupport.checkShapes("GauAttention", q, k, v, mask);
        int b = q.size(0), t = q.size(2), s = k.size(2);
        Variable a = relu2(affine(q, w.qScale(), w.qOffset()), affine(k, w.kScale(), w.kOffset()), w.relPosBias(), mask.queryOffset(), n);
        return (mask.masksAnything() ? a.mul(allowed(mask, b, t, s, q)) : a).matmul(v); // (B, H, T, Dv)
    }

    private static void checkFlash(Variable q, Variable k, Variable v, Weights w, AttentionMask mask, int chunk) {
        KernelSupport.checkShapes("GauAttention", q, k, v, mask);
        if (!mask.causal() || chunk <= 0 || w.linQScale() == null) {
            throw new IllegalArgumentException("GauAttention: FLASH mixed chunks are causal, need a chunk > 0 and the lin_ weights; got causal="
                    + mask.causal() + ", chunk " + chunk);
        }
    }

    /**
     * FLASH as one T × S weight matrix (quadratic cost, any causal mask): relu² within a query's chunk,
     * Q'·K'/C to the keys of earlier chunks, chunks of C by absolute position.
     */
    public static Variable flashFull(Variable q, Variable k, Variable v, Weights w, AttentionMask mask, int chunk) {
        checkFlash(q, k, v, w, mask, chunk);
        int b = q.size(0), t = q.size(2), s = k.size(2);
        double[] same = new double[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                same[i * s + j] = (mask.queryOffset() + i) / chunk == j / chunk ? 1 : 0;
            }
        }
        Variable inChunk = OnDevice.constant(Tensor.of(same, 1, 1, t, s), q);
        Variable quad = relu2(affine(q, w.qScale(), w.qOffset()), affine(k, w.kScale(), w.kOffset()), w.relPosBias(), mask.queryOffset(), chunk);
        Variable lin = affine(q, w.linQScale(), w.linQOffset()).matmul(affine(k, w.linKScale(), w.linKOffset()).mT()).div(chunk);
        Variable weights = quad.mul(inChunk).add(lin.mul(inChunk.neg().add(1))); // earlier chunks: the causal mask drops later ones
        return weights.mul(allowed(mask, b, t, s, q)).matmul(v); // (B, H, T, Dv)
    }

    /** FLASH chunk by chunk with the running Σ K'ᵀ v of earlier chunks; equal to {@link #flashFull}, queries at the last T of S. */
    public static Variable flashChunked(Variable q, Variable k, Variable v, Weights w, AttentionMask mask, int chunk) {
        checkFlash(q, k, v, w, mask, chunk);
        int t = q.size(2), s = k.size(2);
        Variable qq = DocumentRuns.padQueries(q, s); // (B, H, S, D)
        Variable[] in = {affine(qq, w.qScale(), w.qOffset()), affine(k, w.kScale(), w.kOffset()), affine(qq, w.linQScale(), w.linQOffset()),
            affine(k, w.linKScale(), w.linKOffset()), v};
        return DocumentRuns.apply("GauAttention", mask, t, in, (run, from) -> flashRun(run, w.relPosBias(), from, chunk));
    }

    /** One document run starting at absolute position {@code from}: Q, K, Q', K' (…, L, D), v (…, L, Dv) → (…, L, Dv). */
    private static Variable flashRun(Variable[] run, Variable relPosBias, int from, int chunk) {
        Variable qa = run[0], ka = run[1], lq = run[2], lk = run[3], v = run[4];
        int len = v.size(2);
        Variable state = OnDevice.zeros(v, v.size(0), v.size(1), lk.size(3), v.size(3)); // Σ K'ᵀv (…, D, Dv)
        List<Variable> outs = new ArrayList<>();
        for (int p = 0; p < len; ) {
            int c = Math.min(chunk - (from + p) % chunk, len - p); // up to the next absolute chunk boundary
            Variable causal = OnDevice.constant(Tensor.ones(v.dtype(), c, c).tril(0), v);
            Variable quad = relu2(qa.narrow(2, p, c), ka.narrow(2, p, c), relPosBias, 0, chunk).mul(causal).matmul(v.narrow(2, p, c));
            outs.add(quad.add(lq.narrow(2, p, c).matmul(state).div(chunk))); // (…, C, Dv)
            state = state.add(lk.narrow(2, p, c).mT().matmul(v.narrow(2, p, c)));
            p += c;
        }
        return outs.size() == 1 ? outs.get(0) : Variable.cat(2, outs.toArray(Variable[]::new));
    }
}
