package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * CoLT5 conditional attention (B24), after Ainslie, Lei, de Jong, Ontañón, Brahma, Zemlyanskiy,
 * Uthus, Guo, Lee-Thorp, Tay, Sung and Sanghai, "CoLT5: Faster Long-Range Transformers with
 * Conditional Computation", EMNLP 2023: every token gets a cheap light branch, and only the tokens a
 * learned router picks also get the expensive heavy branch, scaled by their router score so the
 * router learns:
 * <pre>
 *   light_i = Σ_{|i−j| &lt; W} softmax_j(q_i·k_j / √D) v_j                   (local attention, all tokens)
 *   a_i = q_i·r_q,  b_j = k_j·r_k                                           (routers, learned r per head)
 *   Q* = the m queries with the largest a,  K* = the m keys with the largest b
 *   heavy_i = Σ_{j ∈ K*} softmax_j(q_i·k_j / √D) σ(b_j) v_j                 (i ∈ Q*: full attention among the routed)
 *   out_i = light_i + [i ∈ Q*] σ(a_i) heavy_i
 * </pre>
 * so the cost is O(T·W + m²) per head rather than O(T²).
 *
 * <p>Named departures. The paper normalises router scores with an iterative soft top-k; here the
 * score of a routed token is σ(score), which keeps the router differentiable with the same role. The
 * routers read the head's q and k (a kernel does not see the block input), and the light branch is
 * the same heads' local attention rather than a separate set of light heads. Selection is a
 * constant (no derivative, ties to the earlier position); gradients reach r through σ. Routing ranks
 * tokens across the whole sequence, so the kernel is bidirectional only (CoLT5 is an encoder
 * design) and refuses a causal or document mask.
 */
public final class ConditionalAttention extends Module implements AttentionKernel {

    /**
     * @param window W ≥ 1, the light branch's reach (a token sees 2W − 1 keys centred on itself)
     * @param routed m ≥ 1, the queries and the keys routed to the heavy branch per head (all when T ≤ m)
     */
    public record Options(int window, int routed) {
        public Options {
            if (window < 1 || routed < 1) {
                throw new IllegalArgumentException("attention conditional: options window and routed must be >= 1, got window=" + window
                        + " routed=" + routed);
            }
        }
    }

    private final int heads;
    private final int headDim;
    private final Options options;
    private final Variable queryRouter;
    private final Variable keyRouter;

    public ConditionalAttention(int heads, int headDim, Options options, Generator g) {
        if (heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("ConditionalAttention: heads and headDim must be positive, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        this.options = options;
        double std = 1 / Math.sqrt(headDim);
        this.queryRouter = parameter("query_router", Init.normal(g, std, heads, headDim, 1));
        this.keyRouter = parameter("key_router", Init.normal(g, std, heads, headDim, 1));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("ConditionalAttention", q, k, v, mask, heads, headDim);
        DType dt = q.dtype();
        return attend(q, k, v, queryRouter.to(dt), keyRouter.to(dt), options, mask);
    }

    /** The kernel as a function of the routers r_q, r_k (H, D, 1) in q's dtype, so their gradients can be checked like q's. */
    public static Variable attend(Variable q, Variable k, Variable v, Variable queryRouter, Variable keyRouter, Options options,
            AttentionMask mask) {
        if (mask.masksAnything()) {
            throw new IllegalArgumentException("ConditionalAttention: routing ranks the whole sequence, so it is bidirectional only; got "
                    + "a causal or document mask");
        }
        Variable light = new SlidingWindowAttention(options.window()).attend(q, k, v, mask);
        Variable a = q.matmul(queryRouter.unsqueeze(0)); // (B, H, T, 1)
        Variable b = k.matmul(keyRouter.unsqueeze(0)); // (B, H, S, 1)
        Variable pickQueries = OnDevice.constant(selection(a.data(), options.routed()), q); // (B, H, m, T)
        Variable pickKeys = OnDevice.constant(selection(b.data(), options.routed()), q); // (B, H, m', S)
        Variable routedQ = pickQueries.matmul(q);
        Variable routedK = pickKeys.matmul(k);
        Variable routedV = pickKeys.matmul(v.mul(b.sigmoid()));
        Variable heavy = routedQ.matmul(routedK.mT()).div(Math.sqrt(q.size(3))).softmax(-1).matmul(routedV); // (B, H, m, Dv)
        return light.add(pickQueries.mT().matmul(heavy.mul(pickQueries.matmul(a.sigmoid()))));
    }

    /**
     * One-hot rows (B, H, min(m, n), n) picking, per (batch, head), the n-long column of
     * {@code scores} (B, H, n, 1)'s m largest entries, in position order (ties to the earlier).
     * Shared with the conditional feed-forward ({@code ffn.ConditionalFeedForward}), which routes the same way.
     */
    public static Tensor selection(Tensor scores, int m) {
        int batchHeads = scores.size(0) * scores.size(1);
        int n = scores.size(2);
        int kept = Math.min(m, n);
        double[] s = scores.toDoubleArray();
        double[] pick = new double[batchHeads * kept * n];
        for (int bh = 0; bh < batchHeads; bh++) {
            int base = bh * n;
            int[] chosen = IntStream.range(0, n).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(i -> -s[base + i]).thenComparingInt(i -> i))
                    .limit(kept).mapToInt(Integer::intValue).sorted().toArray();
            for (int r = 0; r < kept; r++) {
                pick[(bh * kept + r) * n + chosen[r]] = 1;
            }
        }
        return Tensor.of(pick, scores.size(0), scores.size(1), kept, n);
    }
}
