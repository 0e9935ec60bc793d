package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;

/**
 * Product-key memory (E1), after Lample et al. 2019, "Large Memory Layers with Product Keys", in place
 * of a block's feed-forward. A memory of n² value rows is addressed through two sets of n sub-keys,
 * so the k best of the n² keys are found from 2·n scores and k² candidates. Per head h and token x
 * (queries of width d, sub-keys of width d/2):
 * <pre>
 *   q = W_q^h x = [q1; q2]                           (d), split in halves
 *   s1 = K1^h q1,  s2 = K2^h q2                       (n) each; K1^h, K2^h (n, d/2)
 *   I1 = top-k(s1),  I2 = top-k(s2)
 *   S = { (i, j) : i ∈ I1, j ∈ I2 },  score(i, j) = s1_i + s2_j      k² candidates
 *   J = top-k of S by score;  w = softmax(score(J))
 *   y = Σ_h Σ_{(i,j)∈J} w_(i,j) V[i·n + j]            V (n², C), shared by the heads (an EmbeddingBag)
 * </pre>
 * The top-k of the k² candidates is the top-k of all n² sums s1_i + s2_j (the paper's argument: a key
 * in the top k has both halves in their top k), which {@code ProductKeyMemoryTest} checks against the
 * exhaustive search. Departure: the paper normalises queries with BatchNorm; here there is none, since
 * batch statistics would mix tokens of a causal decoder and make decoding differ from the full pass.
 * The layer is per token, so a decoder's KV cache decodes it exactly. The caller adds the residual.
 * Names: {@code query.weight} (H·d, C), {@code keys1}/{@code keys2} (H, n, d/2), {@code values.weight} (n², C).
 */
public final class ProductKeyMemory extends Module implements Layer {

    /**
     * @param keys n ≥ 1 sub-keys per half (n² memory slots)
     * @param topK k, 1 ≤ k ≤ n
     * @param heads H ≥ 1 memory heads
     * @param keyDim d, the query width per head (even)
     * @param layers the layers that take the memory, comma separated (e.g. "1" or "0,2"), or "all"; the others keep a dense FFN
     */
    public record Options(int keys, int topK, int heads, int keyDim, String layers) {
        public Options {
            if (keys < 1 || topK < 1 || topK > keys || heads < 1 || keyDim < 2 || keyDim % 2 != 0) {
                throw new IllegalArgumentException("ffn pkm: need keys >= 1, 1 <= top_k <= keys, heads >= 1 and an even key_dim >= 2, got keys="
                        + keys + " top_k=" + topK + " heads=" + heads + " key_dim=" + keyDim);
            }
            if (layers == null || !layers.strip().matches("all|\\d+(\\s*,\\s*\\d+)*")) {
                throw new IllegalArgumentException("ffn pkm: option layers must be 'all' or layer numbers like 0,2, got '" + layers + "'");
            }
        }

        /** Whether layer {@code layer} (from 0) takes the memory. */
        public boolean inLayer(int layer) {
            return layers.strip().equals("all") || Arrays.stream(layers.split(",")).mapToInt(s -> Integer.parseInt(s.strip()))
                    .anyMatch(l -> l == layer);
        }
    }

    private final int dim;
    private final Options options;
    private final Linear query;
    private final Variable keys1;
    private final Variable keys2;
    private final Variable values;

    public ProductKeyMemory(int dim, Options options, DType dtype, Generator g) {
        Params.checkFloating("ProductKeyMemory", dtype);
        if (dim < 1) {
            throw new IllegalArgumentException("ProductKeyMemory: dim must be positive, got " + dim);
        }
        this.dim = dim;
        this.options = options;
        int n = options.keys();
        int half = options.keyDim() / 2;
        query = child("query", Params.linear(dim, options.heads() * options.keyDim(), false, g, dtype));
        double bound = 1 / Math.sqrt(half); // the paper's uniform sub-key init
        keys1 = parameter("keys1", Init.uniform(g, -bound, bound, options.heads(), n, half).to(dtype));
        keys2 = parameter("keys2", Init.uniform(g, -bound, bound, options.heads(), n, half).to(dtype));
        values = parameter("values", Init.normal(g, 1 / Math.sqrt(dim), n * n, dim).to(dtype)); // the paper's N(0, 1/C)
    }

    public Options options() {
        return options;
    }

    /** x (B, T, C) → (B, T, C). */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException("ProductKeyMemory: expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        int tokens = b * t;
        int n = options.keys();
        int k = options.topK();
        int d = options.keyDim();
        Variable q = query.forward(x.reshape(tokens, dim)); // (N, H·d)
        Variable out = null;
        for (int h = 0; h < options.heads(); h++) {
            Variable s1 = q.narrow(1, h * d, d / 2).matmul(keys1.select(0, h).mT()); // (N, n)
            Variable s2 = q.narrow(1, h * d + d / 2, d / 2).matmul(keys2.select(0, h).mT()); // (N, n)
            Tensor i1 = s1.data().topk(k, 1, true).indices(); // (N, k)
            Tensor i2 = s2.data().topk(k, 1, true).indices(); // (N, k)
            Variable cand = s1.gather(1, i1).unsqueeze(2).add(s2.gather(1, i2).unsqueeze(1)).reshape(tokens, k * k); // (N, k²)
            Tensor best = cand.data().topk(k, 1, true).indices(); // (N, k) of the k² candidates
            Variable w = cand.gather(1, best).softmax(1); // (N, k)
            Tensor ids = OnDevice.of(slots(i1.toLongArray(), i2.toLongArray(), best.toLongArray(), tokens, k, n), values); // (N, k)
            Variable slots = values.embedding(ids); // (N, k, C)
            Variable y = w.unsqueeze(2).mul(slots).sum(1); // (N, C)
            out = out == null ? y : out.add(y);
        }
        return out.reshape(b, t, dim); // (B, T, C)
    }

    /** The memory slot i·n + j of each chosen candidate c = a·k + b, i = I1[a], j = I2[b]: (N, k) ids. */
    static Tensor slots(long[] i1, long[] i2, long[] best, int tokens, int k, int n) {
        long[] ids = new long[tokens * k];
        for (int r = 0; r < tokens; r++) {
            for (int m = 0; m < k; m++) {
                int c = (int) best[r * k + m];
                ids[r * k + m] = i1[r * k + c / k] * n + i2[r * k + c % k];
            }
        }
        return Tensor.of(ids, tokens, k);
    }
}
