package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;

/**
 * Luna, linear unified nested attention (B19), after Ma, Kong, Wang, Zhou, May, Ma and Zettlemoyer,
 * "Luna: Linear Unified Nested Attention", NeurIPS 2021: attention through a short sequence P of
 * length l, packed from the input and then unpacked back to it, so both steps cost O(T·l):
 * <pre>
 *   pack:    Y_P = softmax(P Kᵀ / √D) V                        (l × D: P's rows attend to the input)
 *   unpack:  out = softmax(Q (Y_P W_K)ᵀ / √D) (Y_P W_V)        (T × D: the input attends to the packed rows)
 * </pre>
 * per head, with Q, K, V the block's projections of the input and P, W_K, W_V (D × D) learned per
 * head here ({@code packed}, {@code unpack_key}, {@code unpack_value}).
 *
 * <p>Named departures. The paper feeds each layer the previous layer's packed output
 * P' = LayerNorm(Y_P + P) and learns only the first layer's P; here every layer learns its own P in
 * the query space of its heads (P W_Q^pack folded into P), so the kernel needs nothing from the
 * layer below. Luna's causal form (cumulative packing per position) is not done: this kernel is
 * bidirectional only and refuses a causal or document mask, since every packed row mixes all keys.
 */
public final class LunaAttention extends Module implements AttentionKernel {

    /** @param packLength l ≥ 1, the length of the packed sequence P (the paper uses 16–256) */
    public record Options(int packLength) {
        public Options {
            if (packLength < 1) {
                throw new IllegalArgumentException("attention luna: option pack_length must be >= 1, got " + packLength);
            }
        }
    }

    private final int heads;
    private final int headDim;
    private final Variable packed;
    private final Variable unpackKey;
    private final Variable unpackValue;

    public LunaAttention(int heads, int headDim, Options options, Generator g) {
        if (heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("LunaAttention: heads and headDim must be positive, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        double bound = 1 / Math.sqrt(headDim);
        this.packed = parameter("packed", Init.normal(g, 1, heads, options.packLength(), headDim));
        this.unpackKey = parameter("unpack_key", Init.uniform(g, -bound, bound, heads, headDim, headDim));
        this.unpackValue = parameter("unpack_value", Init.uniform(g, -bound, bound, heads, headDim, headDim));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("LunaAttention", q, k, v, mask);
        if (q.size(1) != heads || q.size(3) != headDim || v.size(3) != headDim) {
            throw new IllegalArgumentException("LunaAttention: made for " + heads + " heads of size " + headDim + ", got q "
                    + Arrays.toString(q.shape()) + ", v " + Arrays.toString(v.shape()));
        }
        DType dt = q.dtype();
        return attend(q, k, v, packed.to(dt), unpackKey.to(dt), unpackValue.to(dt), mask);
    }

    /** The kernel as a function of P (H, l, D), W_K and W_V (H, D, D) in q's dtype, so their gradients can be checked like q's. */
    public static Variable attend(Variable q, Variable k, Variable v, Variable p, Variable wk, Variable wv, AttentionMask mask) {
        if (mask.masksAnything()) {
            throw new IllegalArgumentException("LunaAttention: every packed row mixes all keys, so it is bidirectional only; got a "
                    + "causal or document mask");
        }
        double scale = 1 / Math.sqrt(q.size(3));
        Variable pack = p.unsqueeze(0).matmul(k.mT()).mul(scale).softmax(-1).matmul(v); // (B, H, l, D)
        Variable keys = pack.matmul(wk.unsqueeze(0)); // (B, H, l, D)
        Variable values = pack.matmul(wv.unsqueeze(0));
        return q.matmul(keys.mT()).mul(scale).softmax(-1).matmul(values); // (B, H, T, D)
    }
}
