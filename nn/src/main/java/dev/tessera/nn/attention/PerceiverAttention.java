package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;

/**
 * Perceiver latent attention (B23), after Jaegle, Gimeno, Brock, Zisserman, Vinyals and Carreira,
 * "Perceiver: General Perception with Iterative Attention", ICML 2021, and its read-out from
 * Jaegle et al., "Perceiver IO", ICLR 2022: a short learned latent array Z of N rows attends to the
 * T inputs (cross-attention, O(T·N)), the latents attend to each other (O(N²)), and the inputs read
 * the result back by attending to the latents (the Perceiver IO decoder with the inputs as output
 * queries, O(T·N)). Per head, with Q, K, V the block's projections of the input:
 * <pre>
 *   cross:  L₀  = softmax(Z Kᵀ / √D) V                                     (N × D)
 *   latent: L₁  = L₀ + softmax((L₀ W_Q)(L₀ W_K)ᵀ / √D) (L₀ W_V)            (N × D)
 *   read:   out = softmax(Q (L₁ R_K)ᵀ / √D) (L₁ R_V)                       (T × D)
 * </pre>
 * with Z (H, N, D) ({@code latents}) and the D × D maps W_Q, W_K, W_V ({@code latent_query},
 * {@code latent_key}, {@code latent_value}) and R_K, R_V ({@code read_key}, {@code read_value})
 * learned per head.
 *
 * <p>Named departures, so the whole scheme fits the attention-kernel seam: the latents live in the
 * query space of each head (the paper's Z feeds LayerNorm and a query projection, a function of
 * learned weights only, which is again a learned array per head); the paper's LayerNorms and MLPs
 * around each attention, and its stack of latent self-attention blocks, are left to the block this
 * kernel sits in (one latent self-attention step here, with its residual). The cross step itself
 * is {@link #cross}, checked against transformers' {@code PerceiverSelfAttention} with
 * {@code is_cross_attention=True} (LayerNorms and projections done by the caller).
 *
 * <p>Perceiver AR (Hawthorne, Jaegle, Cangea, Borgeaud, Nash, Malinowski, Dieleman, Vinyals,
 * Botvinick, Simon, Sheahan, Zeghidour, Alayrac, Carreira and Engel, "General-purpose, long-context
 * autoregressive modeling with Perceiver AR", ICML 2022) is the causal form, and it changes the
 * model rather than the kernel: the latents are the last N positions themselves, so with X the
 * T inputs and p_i = T − N + i the position of latent i,
 * <pre>
 *   layer 1:     H_i = X_{p_i} + Σ_{s ≤ p_i} softmax_s(q(X_{p_i}) · k(X_s) / √D) v(X_s)       (N queries, T keys)
 *   layers 2..L: H ← H + causal softmax self-attention among the N latents only
 * </pre>
 * and the loss covers the last N targets only. Its kind, {@link AttentionKind#PERCEIVER_AR}, takes
 * {@link ArOptions} and ordinary causal softmax kernels; the decoders route it (models' PerceiverAr).
 *
 * <p>Bidirectional only: every latent reads every input, so a causal or document mask is refused
 * with a one-line error ({@link AttentionKind#causal()} is false for it).
 */
public final class PerceiverAttention extends Module implements AttentionKernel {

    /** @param latents N ≥ 1, the length of the latent array (the paper uses 256–1024; small models far fewer) */
    public record Options(int latents) {
        public Options {
            if (latents < 1) {
                throw new IllegalArgumentException("attention perceiver: option latents must be >= 1, got " + latents);
            }
        }
    }

    /** @param latents N ≥ 1, how many of the last positions are Perceiver AR's latents (the paper: 1024 of 8192 and more) */
    public record ArOptions(int latents) {
        public ArOptions {
            if (latents < 1) {
                throw new IllegalArgumentException("attention perceiver_ar: option latents must be >= 1, got " + latents);
            }
        }
    }

    private final int heads;
    private final int headDim;
    private final Variable latents;
    private final Variable[] maps;

    /** Z ~ N(0, 1) like the queries it stands for; every D × D map U(±1/√D) like a linear layer's weight. */
    public PerceiverAttention(int heads, int headDim, Options options, Generator g) {
        if (heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("PerceiverAttention: heads and headDim must be positive, got " + heads + ", " + headDim);
        }
        this.heads = heads;
        this.headDim = headDim;
        double bound = 1 / Math.sqrt(headDim);
        this.latents = parameter("latents", Init.normal(g, 1, heads, options.latents(), headDim));
        String[] names = {"latent_query", "latent_key", "latent_value", "read_key", "read_value"};
        this.maps = new Variable[names.length];
        for (int i = 0; i < names.length; i++) {
            maps[i] = parameter(names[i], Init.uniform(g, -bound, bound, heads, headDim, headDim));
        }
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("PerceiverAttention", q, k, v, mask);
        if (q.size(1) != heads || q.size(3) != headDim || v.size(3) != headDim) {
            throw new IllegalArgumentException("PerceiverAttention: made for " + heads + " heads of size " + headDim + ", got q "
                    + Arrays.toString(q.shape()) + ", v " + Arrays.toString(v.shape()));
        }
        DType dt = q.dtype();
        return attend(q, k, v, latents.to(dt), maps[0].to(dt), maps[1].to(dt), maps[2].to(dt), maps[3].to(dt), maps[4].to(dt), mask);
    }

    /**
     * The kernel as a function of Z (H, N, D) and the five maps (H, D, D) in q's dtype, so their
     * gradients can be checked like q's.
     */
    public static Variable attend(Variable q, Variable k, Variable v, Variable z, Variable wq, Variable wk, Variable wv, Variable rk,
            Variable rv, AttentionMask mask) {
        if (mask.masksAnything()) {
            throw new IllegalArgumentException("PerceiverAttention: every latent reads every input, so it is bidirectional only; got a "
                    + "causal or document mask");
        }
        Variable l0 = cross(z.unsqueeze(0), k, v); // (B, H, N, D)
        Variable l1 = l0.add(cross(l0.matmul(wq.unsqueeze(0)), l0.matmul(wk.unsqueeze(0)), l0.matmul(wv.unsqueeze(0))));
        return cross(q, l1.matmul(rk.unsqueeze(0)), l1.matmul(rv.unsqueeze(0))); // (B, H, T, D)
    }

    /**
     * One unmasked softmax attention, softmax(queries keysᵀ / √D) values: queries (B or 1, H, N, D),
     * keys and values (B, H, S, D) → (B, H, N, D). Perceiver's cross-attention when the queries are
     * the (projected) latents and the keys and values the projected inputs.
     */
    public static Variable cross(Variable queries, Variable keys, Variable values) {
        return queries.matmul(keys.mT()).mul(1 / Math.sqrt(queries.size(3))).softmax(-1).matmul(values);
    }
}
