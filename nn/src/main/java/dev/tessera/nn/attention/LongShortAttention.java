package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Long-Short attention (B20): Zhu, Ping, Xiao, Shoeybi, Goldstein, Anandkumar, Catanzaro,
 * "Long-Short Transformer: Efficient Transformers for Language and Vision", NeurIPS 2021
 * (arXiv:2107.02192). Each query attends, in one softmax, to the short-term keys of a local window
 * and to r long-range keys made by a dynamic low-rank projection of the whole sequence:
 *
 * <pre>
 *   P = softmax_n(K W_P) ∈ ℝ^{n × r}            (softmax over the n positions, W_P ∈ ℝ^{D × r} per head)
 *   K̄ = Pᵀ K,  V̄ = Pᵀ V ∈ ℝ^{r × D}
 *   out_i = softmax( q_i [LN_L(K_win(i)); LN_G(K̄)]ᵀ / √D ) [LN_L(V_win(i)); LN_G(V̄)]
 * </pre>
 *
 * DualLN: two LayerNorms, LN_L for the window keys/values and LN_G for the projected ones, because
 * K̄ and V̄ are sums over many positions and would otherwise dominate the logits (paper §3.3); as in
 * the authors' code ({@code dual_ln_win}, {@code dual_ln_dproj}) each normalises a position's keys
 * over all heads' channels (H·D), one LN shared by keys and values. The window is the band
 * |p − j| &lt; W around query position p = queryOffset + i (no causal mask), or the W most recent
 * positions p − W &lt; j ≤ p (causal), the convention of {@link SlidingWindowAttention}.
 *
 * <p>Causal (the paper's §3.4 segment-wise dynamic projection, as the authors' autoregressive
 * {@code ChunkedLSAttention}): the positions are cut into segments of l, each projected on its own,
 * P_c = softmax over segment c's l positions of K_c W_P, K̄_c = P_cᵀ K_c, V̄_c = P_cᵀ V_c (r keys per
 * segment), and a query at p sees the projected keys of the segments wholly before its own
 * (c &lt; ⌊p / l⌋); the window covers the rest of the recent past. Nothing depends on a later
 * position, so decoding with a full KV cache (queries at S − T) gives the full forward's rows.
 *
 * <p><b>Departures (named):</b> the paper projects the block input, P = softmax(X W_P); a kernel
 * sees only per-head keys, so here P = softmax(K_h W_P,h) with the head's keys K_h = X W_K,h (as the
 * Synthesizer's dense variant uses q for x). The bidirectional window is a band per query rather than
 * the paper's segment-wise tiles (queries of one tile sharing their keys), the causal one is what the
 * authors' tiles compute per query. Positional terms of the authors' code (Transformer-XL relative
 * biases) are left to the model's own scheme. Under a document mask (A9; causal form only) window
 * keys must share the query's document and a segment's projected keys are seen only when the whole
 * segment lies in it. Queries are taken in row blocks of R,
 * each scoring only the window keys its rows can see and the G projected keys: O(T·(R + W + G)),
 * linear in T bidirectionally (G = r) and O(T·S·r/l) causally, as in the paper.
 *
 * <p>Parameters, all F32 and cast to the inputs' dtype: {@code dproj} (H, D, r) U(±1/√D) as
 * torch.nn.Linear, {@code dual_ln_win.weight|bias} and {@code dual_ln_dproj.weight|bias} (H·D).
 */
public final class LongShortAttention extends Module implements AttentionKernel {
    /** Query rows per block ({@code -Dtessera.attention.longShortBlock}). */
    static final int BLOCK = Integer.getInteger("tessera.attention.longShortBlock", 64);
    /** ε of both LayerNorms (torch's default). */
    public static final double LN_EPS = 1e-5;

    /**
     * @param window W: a causal query sees itself and W − 1 keys before it; a bidirectional one W − 1 each side
     * @param rank r: projected keys per segment (causal) or for the whole sequence (bidirectional)
     * @param segment l: the causal segment length; {@link AttentionKind#LONG_SHORT} defaults to W 16, r 1, l 8, so the
     *     window reaches back past the last whole segment (window ≥ segment, as in the authors' settings)
     */
    public record Options(int window, int rank, int segment) {
        public Options {
            if (window < 1 || rank < 1 || segment < 1) {
                throw new IllegalArgumentException("attention long_short: options window, rank and segment must be >= 1, got window="
                        + window + " rank=" + rank + " segment=" + segment);
            }
        }
    }

    /** The learned tensors, in the inputs' dtype: W_P (H, D, r) and the two LayerNorms' γ, β (H·D). */
    public record Weights(Variable dproj, Variable winWeight, Variable winBias, Variable dprojWeight, Variable dprojBias) {}

    private final Options options;
    private final int heads;
    private final int headDim;
    private final Weights weights;

    public LongShortAttention(Options options, int heads, int headDim, Generator g) {
        if (options == null || heads <= 0 || headDim <= 0 || g == null) {
            throw new IllegalArgumentException("LongShortAttention: need options, heads > 0, headDim > 0 and a generator, got " + options
                    + ", " + heads + ", " + headDim + ", " + g);
        }
        this.options = options;
        this.heads = heads;
        this.headDim = headDim;
        double bound = 1 / Math.sqrt(headDim);
        int c = heads * headDim;
        LayerNorm win = child("dual_ln_win", new LayerNorm(c, LN_EPS)); // holds γ, β; applied by dualLn over (H, D)
        LayerNorm dproj = child("dual_ln_dproj", new LayerNorm(c, LN_EPS));
        this.weights = new Weights(parameter("dproj", Init.uniform(g, -bound, bound, heads, headDim, options.rank())), win.weight(),
                win.bias(), dproj.weight(), dproj.bias());
    }

    public Options options() {
        return options;
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("LongShortAttention", q, k, v, mask);
        if (q.size(1) != heads || q.size(3) != headDim || v.size(3) != headDim) {
            throw new IllegalArgumentException("LongShortAttention: made for " + heads + " heads of size " + headDim + ", got q "
                    + Arrays.toString(q.shape()) + ", v " + Arrays.toString(v.shape()));
        }
        DType dt = q.dtype();
        Weights w = new Weights(weights.dproj.to(dt), weights.winWeight.to(dt), weights.winBias.to(dt), weights.dprojWeight.to(dt),
                weights.dprojBias.to(dt));
        return attend(q, k, v, w, options, mask, BLOCK);
    }

    /**
     * The kernel as a function of its weights (in the inputs' dtype), so their gradients can be
     * checked like any input's; {@code block} query rows at a time.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Weights w, Options o, AttentionMask mask, int block) {
        KernelSupport.checkShapes("LongShortAttention", q, k, v, mask);
        if (mask.documentIds() != null && !mask.causal()) {
            throw new IllegalArgumentException("LongShortAttention: a document mask needs the causal form (the bidirectional projection "
                    + "mixes every position)");
        }
        int h = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), r = o.rank();
        if (v.size(3) != d || w.dproj().rank() != 3 || w.dproj().size(0) != h || w.dproj().size(1) != d || w.dproj().size(2) != r) {
            throw new IllegalArgumentException("LongShortAttention: dproj " + Arrays.toString(w.dproj().shape()) + " and v "
                    + Arrays.toString(v.shape()) + " must fit q " + Arrays.toString(q.shape()) + " with rank " + r);
        }
        boolean causal = mask.causal();
        int segments = causal ? s / o.segment() : 1; // causal: only whole segments are ever seen
        int g = segments * r; // projected keys
        Variable[] kvBar = g == 0 ? null : project(k, v, w.dproj(), causal ? o.segment() : s, segments); // (B, H, G, D) each
        double alpha = LogitScale.inverseSqrt(d);
        Variable kw = dualLn(k, w.winWeight(), w.winBias()); // (B, H, S, D)
        Variable vw = dualLn(v, w.winWeight(), w.winBias());
        Variable kb = g == 0 ? null : dualLn(kvBar[0], w.dprojWeight(), w.dprojBias()); // (B, H, G, D)
        Variable vb = g == 0 ? null : dualLn(kvBar[1], w.dprojWeight(), w.dprojBias());
        return KernelSupport.byRowBlocks(t, block, (r0, rows) -> {
            int first = mask.queryOffset() + r0; // the block's window keys: [lo, hi)
            int lo = Math.clamp(first - o.window() + 1L, 0, s);
            int hi = Math.clamp(causal ? first + rows : first + rows - 1L + o.window(), lo, s);
            Variable qr = q.narrow(2, r0, rows); // (B, H, rows, D)
            Variable scores = qr.matmul(kw.narrow(2, lo, hi - lo).mT()); // (B, H, rows, hi − lo)
            Variable values = vw.narrow(2, lo, hi - lo);
            if (g > 0) {
                scores = Variable.cat(3, qr.matmul(kb.mT()), scores); // (B, H, rows, G + hi − lo)
                values = Variable.cat(2, vb, values);
            }
            Tensor allowed = allowed(mask, q.size(0), t, s, o, segments, r0, rows, lo, hi);
            return new MaskedSoftmaxFunction(allowed, alpha).call(scores).matmul(values); // (B, H, rows, D)
        }); // (B, H, T, D)
    }

    /**
     * K̄, V̄ (B, H, G·r, D): per segment of {@code length} positions (the first {@code segments·length}
     * keys), P = softmax over the segment of K W_P, then Pᵀ K and Pᵀ V, segments in order.
     */
    static Variable[] project(Variable k, Variable v, Variable dproj, int length, int segments) {
        int b = k.size(0), h = k.size(1), d = k.size(3), r = dproj.size(2);
        Variable ks = k.narrow(2, 0, segments * length).reshape(b, h, segments, length, d); // (B, H, C, l, D)
        Variable vs = v.narrow(2, 0, segments * length).reshape(b, h, segments, length, d);
        Variable p = ks.matmul(dproj.unsqueeze(1).unsqueeze(0)).softmax(3); // (B, H, C, l, r): softmax over the segment's positions
        Variable kBar = p.mT().matmul(ks).reshape(b, h, segments * r, d); // (B, H, C·r, D)
        Variable vBar = p.mT().matmul(vs).reshape(b, h, segments * r, d);
        return new Variable[] {kBar, vBar};
    }

    /** LayerNorm of each position over all heads' channels (H·D), then back to (B, H, L, D). */
    static Variable dualLn(Variable x, Variable weight, Variable bias) {
        int b = x.size(0), h = x.size(1), l = x.size(2), d = x.size(3);
        Variable flat = x.transpose(1, 2).reshape(b, l, h * d); // (B, L, H·D)
        Variable centered = flat.sub(flat.mean(true, -1));
        Variable y = centered.mul(centered.square().mean(true, -1).add(LN_EPS).rsqrt()).mul(weight).add(bias);
        return y.reshape(b, l, h, d).transpose(1, 2); // (B, H, L, D)
    }

    /**
     * BOOL (B or 1, 1, rows, G + hi − lo) for query rows r0 … r0 + rows − 1: the projected keys a
     * query may see, then its window among keys lo … hi − 1. Under a document mask (causal only) a
     * window key must share the query's document and a segment must lie wholly inside it, so nothing
     * crosses a document boundary.
     */
    static Tensor allowed(AttentionMask mask, int batch, int t, int s, Options o, int segments, int r0, int rows, int lo, int hi) {
        boolean causal = mask.causal();
        int g = segments * o.rank();
        int width = g + hi - lo;
        int n = mask.documentIds() == null ? 1 : batch;
        byte[] m = new byte[n * rows * width];
        for (int b = 0; b < n; b++) {
            long[] ids = KernelSupport.documentRow(mask, b);
            for (int i = 0; i < rows; i++) {
                int p = mask.queryOffset() + r0 + i;
                long doc = ids == null ? 0 : ids[s - t + r0 + i];
                int row = (b * rows + i) * width;
                for (int c = 0; c < g; c++) {
                    int seg = c / o.rank();
                    boolean ok = !causal || seg < p / o.segment();
                    for (int j = seg * o.segment(); ok && ids != null && j < (seg + 1) * o.segment(); j++) {
                        ok = ids[j] == doc;
                    }
                    m[row + c] = (byte) (ok ? 1 : 0);
                }
                for (int j = lo; j < hi; j++) {
                    boolean ok = Math.abs(p - j) < o.window() && (!causal || j <= p) && (ids == null || ids[j] == doc);
                    m[row + g + j - lo] = (byte) (ok ? 1 : 0);
                }
            }
        }
        return Tensor.of(Storage.wrap(DType.BOOL, m), n, 1, rows, width);
    }
}
