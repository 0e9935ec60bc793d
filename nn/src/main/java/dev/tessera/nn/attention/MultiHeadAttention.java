package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;

/**
 * Multi-head self-attention (A8; Vaswani et al. 2017) with multi-query (Shazeer 2019, one K/V
 * head) and grouped-query attention (Ainslie et al. 2023, numKvHeads dividing numHeads):
 * <pre>
 *   q = x·W_qᵀ → (B, H, T, D),  k = x·W_kᵀ, v = x·W_vᵀ → (B, KV, T, D)
 *   q, k ← norm(q), norm(k) per head            (optional QK-norm, A11; Dehghani et al. 2023)
 *   q, k ← RoPE(q, p), RoPE(k, p)               (optional, A7)
 *   k, v ← cache ⧺ (k, v);  each KV head repeated H/KV times
 *   o = kernel(q, k, v, mask) → (B, T, H·D);  y = o·W_oᵀ
 * </pre>
 * The kernel is pluggable ({@link AttentionKernel}); the default {@link SoftmaxAttention} scales by
 * 1/√D, optionally soft-caps (A12) and applies attention dropout (A14). Parameter names follow
 * Hugging Face Llama: q_proj, k_proj, v_proj, o_proj, q_norm, k_norm.
 */
public final class MultiHeadAttention extends Module {

    /**
     * @param rope null for no rotary embedding
     * @param qkNorm null for no QK-norm
     * @param softCap attention-logit soft cap c (0 for none), used by the default kernel
     * @param options the kind's own options record ({@link AttentionKind#optionsType()}, e.g. the window of
     *     sliding-window attention; {@link KernelOptions.None} for kinds without options)
     */
    public record Config(int dim, int numHeads, int numKvHeads, int headDim, boolean bias, RotaryEmbedding.Convention rope,
            double ropeBase, int maxPositions, NormKind qkNorm, double normEps, double softCap, double dropout, DType dtype,
            AttentionKind kind, Record options) {
        public Config {
            if (kind == null || options == null) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: attention kind and options are required");
            }
            if (dim <= 0 || numHeads <= 0 || numKvHeads <= 0 || headDim <= 0) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: sizes must be positive, got dim=" + dim + " heads="
                        + numHeads + " kvHeads=" + numKvHeads + " headDim=" + headDim);
            }
            if (numHeads % numKvHeads != 0) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: numKvHeads " + numKvHeads + " does not divide numHeads "
                        + numHeads);
            }
            if (rope != null && (headDim % 2 != 0 || !(ropeBase > 1) || maxPositions <= 0)) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: RoPE needs an even headDim, base > 1 and maxPositions > 0, got "
                        + headDim + ", " + ropeBase + ", " + maxPositions);
            }
            if (!(softCap >= 0) || !(dropout >= 0 && dropout < 1) || !(normEps >= 0)) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: need softCap >= 0, dropout in [0, 1), normEps >= 0, got "
                        + softCap + ", " + dropout + ", " + normEps);
            }
            if (options.getClass() != kind.optionsType()) {
                throw new IllegalArgumentException("MultiHeadAttention.Config: attention " + kind.configName() + " takes "
                        + kind.optionsType().getSimpleName() + " options, got " + options);
            }
            Params.checkFloating("MultiHeadAttention.Config", dtype);
        }

        /** A kind with its default options (an error for a kind with a required option). */
        public Config(int dim, int numHeads, int numKvHeads, int headDim, boolean bias, RotaryEmbedding.Convention rope,
                double ropeBase, int maxPositions, NormKind qkNorm, double normEps, double softCap, double dropout, DType dtype,
                AttentionKind kind) {
            this(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, dropout, dtype, kind,
                    kind.defaultOptions());
        }

        /** Softmax attention (the default kind). */
        public Config(int dim, int numHeads, int numKvHeads, int headDim, boolean bias, RotaryEmbedding.Convention rope,
                double ropeBase, int maxPositions, NormKind qkNorm, double normEps, double softCap, double dropout, DType dtype) {
            this(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, dropout, dtype,
                    AttentionKind.SOFTMAX);
        }

        /** Another kind; the options are kept when they are the new kind's type, else the new kind's defaults. */
        public Config withKind(AttentionKind k) {
            return withAttention(k, options.getClass() == k.optionsType() ? options : k.defaultOptions());
        }

        /** Another kind with its options. */
        public Config withAttention(AttentionKind k, Record o) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, dropout,
                    dtype, k, o);
        }

        /** Top-k explicit sparse attention (B9) keeping k keys per query. */
        public Config withTopK(int k) {
            return withAttention(AttentionKind.TOPK, new TopKAttention.Options(k));
        }

        /** Sliding-window attention (B5) with window W. */
        public Config withSlidingWindow(int w) {
            return withAttention(AttentionKind.SLIDING_WINDOW, new SlidingWindowAttention.Options(w));
        }

        /** The sliding window W, or 0 when the kind has none (the KV cache keeps only W − 1 keys then). */
        public int window() {
            return options instanceof SlidingWindowAttention.Options w ? w.window() : 0;
        }

        /** Llama-style: no bias, half-split RoPE with base 10000, no QK-norm, no cap, no dropout. */
        public static Config llama(int dim, int numHeads, int numKvHeads, int maxPositions) {
            return new Config(dim, numHeads, numKvHeads, dim / numHeads, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000,
                    maxPositions, null, 1e-6, 0, 0, DType.F32, AttentionKind.SOFTMAX);
        }

        public Config withDtype(DType d) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, dropout,
                    d, kind, options);
        }

        public Config withRope(RotaryEmbedding.Convention r, double base) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, r, base, maxPositions, qkNorm, normEps, softCap, dropout,
                    dtype, kind, options);
        }

        public Config withQkNorm(NormKind k) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, k, normEps, softCap, dropout,
                    dtype, kind, options);
        }

        public Config withSoftCap(double c) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, c, dropout,
                    dtype, kind, options);
        }

        public Config withBias(boolean b) {
            return new Config(dim, numHeads, numKvHeads, headDim, b, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, dropout,
                    dtype, kind, options);
        }

        public Config withDropout(double p) {
            return new Config(dim, numHeads, numKvHeads, headDim, bias, rope, ropeBase, maxPositions, qkNorm, normEps, softCap, p,
                    dtype, kind, options);
        }
    }

    private final Config config;
    private final Linear qProj;
    private final Linear kProj;
    private final Linear vProj;
    private final Linear oProj;
    private final Layer qNorm;
    private final Layer kNorm;
    private final RotaryEmbedding rope;
    private final AttentionKernel kernel;

    /** With the kernel the config's {@link AttentionKind} names (softmax by default). */
    public MultiHeadAttention(Config c, Generator g) {
        this(c, g, c.kind().create(c, g));
    }

    /** With the kernel the config's kind gives layer {@code layer} of a stack (kinds such as ALTERNATING differ per layer). */
    public MultiHeadAttention(Config c, int layer, Generator g) {
        this(c, g, c.kind().create(c, layer, g));
    }

    public MultiHeadAttention(Config c, Generator g, AttentionKernel kernel) {
        if (kernel == null) {
            throw new IllegalArgumentException("MultiHeadAttention: kernel is required");
        }
        this.config = c;
        int h = c.numHeads();
        int kv = c.numKvHeads();
        int d = c.headDim();
        qProj = child("q_proj", Params.linear(c.dim(), h * d, c.bias(), g, c.dtype()));
        kProj = child("k_proj", Params.linear(c.dim(), kv * d, c.bias(), g, c.dtype()));
        vProj = child("v_proj", Params.linear(c.dim(), kv * d, c.bias(), g, c.dtype()));
        oProj = child("o_proj", Params.linear(h * d, c.dim(), c.bias(), g, c.dtype()));
        if (c.qkNorm() != null) {
            qNorm = (Layer) child("q_norm", c.qkNorm().create(d, c.normEps(), false, c.dtype()));
            kNorm = (Layer) child("k_norm", c.qkNorm().create(d, c.normEps(), false, c.dtype()));
        } else {
            qNorm = kNorm = null;
        }
        rope = c.rope() == null ? null : child("rotary_emb", new RotaryEmbedding(d, c.ropeBase(), c.rope(), c.maxPositions(), c.dtype()));
        this.kernel = kernel;
        if (kernel instanceof Module m) {
            child("kernel", m);
        }
    }

    public Config config() {
        return config;
    }

    public AttentionKernel kernel() {
        return kernel;
    }

    public Variable forward(Variable x, AttentionMask mask) {
        return forward(x, mask, null);
    }

    /**
     * x (B, T, C) → (B, T, C). With a cache holding P positions, the queries sit at positions
     * P … P+T−1: RoPE uses that offset and the mask's queryOffset is set to P (its document ids,
     * if any, must cover all P+T key positions).
     */
    public Variable forward(Variable x, AttentionMask mask, KvCache cache) {
        return forward(x, x, mask, cache);
    }

    /**
     * Queries from {@code xq} (B, N, C), keys and values from {@code xkv} (B, T, C): the N queries
     * are the last N of all P + T key positions (P cached), so N may exceed T by cached positions.
     * Perceiver AR's first layer (B23) uses it with the last N positions as queries over all of
     * them; {@code forward(x, x, ...)} is ordinary self-attention. Returns (B, N, C).
     */
    public Variable forward(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
        for (Variable x : new Variable[] {xq, xkv}) {
            if (x.rank() != 3 || x.size(2) != config.dim() || x.size(0) != xkv.size(0)) {
                throw new IllegalArgumentException("MultiHeadAttention: expected input (B, T, " + config.dim() + "), got "
                        + java.util.Arrays.toString(x.shape()));
            }
        }
        int b = xkv.size(0);
        int t = xkv.size(1);
        int n = xq.size(1);
        int h = config.numHeads();
        int kv = config.numKvHeads();
        int d = config.headDim();
        int past = cache == null ? 0 : cache.length();
        if (n > past + t) {
            throw new IllegalArgumentException("MultiHeadAttention: " + n + " queries but only " + (past + t) + " key positions");
        }
        Variable q = qProj.forward(xq).view(b, n, h, d).transpose(1, 2); // (B, H, N, D)
        Variable k = kProj.forward(xkv).view(b, t, kv, d).transpose(1, 2); // (B, KV, T, D)
        Variable v = vProj.forward(xkv).view(b, t, kv, d).transpose(1, 2); // (B, KV, T, D)
        if (qNorm != null) {
            q = qNorm.forward(q);
            k = kNorm.forward(k);
        }
        if (rope != null) {
            q = rope.apply(q, past + t - n);
            k = rope.apply(k, past);
        }
        if (cache != null) {
            Variable[] kvAll = cache.append(k, v);
            k = kvAll[0]; // (B, KV, S, D)
            v = kvAll[1];
        }
        k = repeatKv(k, h / kv); // (B, H, S, D)
        v = repeatKv(v, h / kv);
        AttentionMask m = mask == null ? AttentionMask.NONE : mask;
        if (cache != null || n != t) {
            m = m.forCachedKeys(n, k.size(2)); // queries are the last N keys (a sliding-window cache holds fewer than P + T)
        }
        Variable o = kernel.attend(q, k, v, m); // (B, H, N, D)
        return oProj.forward(o.transpose(1, 2).reshape(b, n, h * d)); // (B, N, C)
    }

    /** (B, KV, S, D) → (B, KV·n, S, D), each KV head repeated n times consecutively (HF repeat_kv). */
    static Variable repeatKv(Variable x, int n) {
        if (n == 1) {
            return x;
        }
        int b = x.size(0);
        int kv = x.size(1);
        int s = x.size(2);
        int d = x.size(3);
        return x.unsqueeze(2).expand(b, kv, n, s, d).reshape(b, kv * n, s, d);
    }

    public Linear qProj() { return qProj; }
    public Linear kProj() { return kProj; }
    public Linear vProj() { return vProj; }
    public Linear oProj() { return oProj; }
    public RotaryEmbedding rotary() { return rope; }
}
