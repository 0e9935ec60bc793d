package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.models.ModelConfig.Positional;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.nn.attention.AttentionKernel;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.attention.SoftCap;
import dev.tessera.nn.block.Define;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.block.InputEmbedding;
import dev.tessera.nn.block.LmHead;
import dev.tessera.nn.block.TokenEmbedding;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.nn.mixer.TokenMixer;
import dev.tessera.nn.norm.DeepNorm;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.LearnedPositions;
import dev.tessera.nn.position.SinusoidalPositions;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GPT-2 (Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"), named as
 * Hugging Face's {@code GPT2LMHeadModel} and laid out as nanoGPT's model.py.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (n_embd), NH heads, HS head size (C / NH), V vocab.
 *
 *   x = drop(wte(ids) + wpe(positions))                     (B, T, C)
 *   for each of the L blocks h.N:
 *     x = x + attn(ln_1(x))       c_attn: C → 3C fused q, k, v with bias; c_proj: C → C
 *     x = x + mlp(ln_2(x))        c_proj(gelu_tanh(c_fc(x))), c_fc: C → 4C
 *   x = ln_f(x)                                             (B, T, C)
 *   logits = x · wteᵀ                                       (B, T, V), the head tied to wte
 * </pre>
 *
 * Weight layout: our {@link Linear} keeps W as (out, in), as torch.nn.Linear. Hugging Face's GPT-2
 * uses Conv1D, which stores c_attn, c_proj and c_fc weights as (in, out); {@link
 * #toHuggingFaceLayout} and {@link #fromHuggingFaceLayout} transpose exactly those four per block.
 * The residual projections (both c_proj) start from N(0, (0.02/√(2L))²) (D7, nn.ResidualScaling).
 * Config switches: norm kind and placement (PRE, or POST without ln_f), DeepNorm, activation, the
 * attention kernel, QK-norm ({@code attn.q_norm}/{@code k_norm}), soft caps, learned/sinusoidal/no
 * positions, an untied head ({@code lm_head.weight}), and a token mixer (issue 17, {@code h.N.mixer},
 * e.g. E11 LRU) in place of {@code attn} in every block, decoding from a recurrent state. With DeepNorm, nn.DeepNorm's β-gain init
 * reaches both c_proj and c_fc by name but not the fused c_attn (whose v third the paper would
 * also scale by β); c_attn keeps the N(0, initStd²) init.
 */
public final class GPT2 extends Module implements LanguageModel {

    /** Causal self-attention with the fused q/k/v projection (Hugging Face {@code GPT2Attention}). */
    static final class Attention extends Module {
        private final int heads;
        private final int headDim;
        private final Linear cAttn;
        private final Linear cProj;
        private final Layer qNorm;
        private final Layer kNorm;
        private final AttentionKernel kernel;

        Attention(ModelConfig c, int layer, Generator g) {
            int dim = c.dim();
            heads = c.heads();
            headDim = c.headDim();
            cAttn = child("c_attn", new Linear(dim, 3 * dim, c.bias(), Tensor.zeros(c.dtype(), 3 * dim, dim)));
            cProj = child("c_proj", new Linear(dim, dim, c.bias(), Tensor.zeros(c.dtype(), dim, dim)));
            qNorm = c.qkNorm() ? (Layer) child("q_norm", c.normKind().create(headDim, c.normEps(), false, c.dtype())) : null;
            kNorm = c.qkNorm() ? (Layer) child("k_norm", c.normKind().create(headDim, c.normEps(), false, c.dtype())) : null;
            // nn's kernels (softmax with the soft cap and dropout, KeyNorm, Performer, memory-efficient, ALiBi)
            var kernelConfig = new MultiHeadAttention.Config(dim, heads, heads, headDim, c.bias(), null, 10000, c.contextLength(), null,
                    c.normEps(), c.attentionSoftCap(), c.dropout(), c.dtype(), c.attentionKind(), c.attentionOptions());
            kernel = c.attentionKind().create(kernelConfig, layer, g);
            if (kernel instanceof Module m) {
                child("kernel", m);
            }
        }

        /**
         * Queries from xq (B, N, C), keys/values from xkv (B, T, C) → (B, N, C); the N queries are the
         * last N of the P + T key positions (P cached). Self-attention when xq is xkv; Perceiver AR's
         * first layer otherwise (c_attn then runs on xq too, and only its query third is used).
         */
        Variable forward(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            int b = xkv.size(0);
            int t = xkv.size(1);
            int n = xq.size(1);
            int dim = heads * headDim;
            Variable[] qkv = cAttn.forward(xkv).split(dim, 2); // 3 × (B, T, C)
            Variable q = (xq == xkv ? qkv[0] : cAttn.forward(xq).split(dim, 2)[0]).reshape(b, n, heads, headDim).transpose(1, 2); // (B, NH, N, HS)
            Variable k = qkv[1].reshape(b, t, heads, headDim).transpose(1, 2); // (B, NH, T, HS)
            Variable v = qkv[2].reshape(b, t, heads, headDim).transpose(1, 2); // (B, NH, T, HS)
            if (qNorm != null) {
                q = qNorm.forward(q);
                k = kNorm.forward(k);
            }
            if (cache != null) {
                Variable[] all = cache.append(k, v);
                k = all[0]; // (B, NH, P+T, HS)
                v = all[1];
            }
            AttentionMask m = mask.forCachedKeys(n, k.size(2)); // queries are the last N keys (a sliding-window cache holds fewer than P + T)
            Variable y = kernel.attend(q, k, v, m); // (B, NH, N, HS)
            return cProj.forward(y.transpose(1, 2).reshape(b, n, dim)); // (B, N, C)
        }

        AttentionKernel kernel() {
            return kernel;
        }
    }

    /** The position-wise MLP (Hugging Face {@code GPT2MLP}). */
    static final class Mlp extends Module implements Layer {
        private final Linear cFc;
        private final Linear cProj;
        private final Activation act;

        Mlp(ModelConfig c) {
            cFc = child("c_fc", new Linear(c.dim(), c.ffnHidden(), c.bias(), Tensor.zeros(c.dtype(), c.ffnHidden(), c.dim())));
            cProj = child("c_proj", new Linear(c.ffnHidden(), c.dim(), c.bias(), Tensor.zeros(c.dtype(), c.dim(), c.ffnHidden())));
            act = c.activation();
        }

        @Override
        public Variable forward(Variable x) {
            return cProj.forward(act.apply(cFc.forward(x))); // (B, T, C)
        }
    }

    /** One transformer block h.N: ln_1, attn, ln_2, mlp. */
    static final class Block extends Module implements PerceiverAr.Block {
        private final Layer ln1;
        private final Attention attn; // null when a token mixer replaces attention
        private final TokenMixer mixer; // issue 17: null for attention
        private final Layer ln2;
        private final Layer mlp; // Mlp, or the FFN kind's own layer (E16 MoE)
        private final Dropout drop;
        private final boolean post;
        private final double alpha; // DeepNorm's skip weight; 1 otherwise

        Block(ModelConfig c, int layer, Generator g) {
            ln1 = (Layer) child("ln_1", c.normKind().create(c.dim(), c.normEps(), c.bias(), c.dtype()));
            mixer = c.mixer() == null ? null : (TokenMixer) child("mixer", c.mixer().atLayer(layer, c.layers()).create(c.dim(), c.dtype(), g));
            attn = mixer != null ? null : child("attn", new Attention(c, layer, g));
            ln2 = (Layer) child("ln_2", c.normKind().create(c.dim(), c.normEps(), c.bias(), c.dtype()));
            mlp = FeedForwardKinds.inLayer(c.ffnKind(), c.ffnOptions(), layer) ? (Layer) child("mlp", (Module) FeedForwardKinds.create(c.ffnKind(), c.dim(), c.ffnHidden(),
                    c.activation(), c.bias(), FeedForwardKinds.atLayer(c.ffnOptions(), layer, c.layers()), c.dtype(), g)) : child("mlp", new Mlp(c));
            drop = child("resid_dropout", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
            post = c.normPlacement() == NormPlacement.POST;
            alpha = c.deepNorm() ? DeepNorm.alpha(c.layers(), DeepNorm.Arch.DECODER_ONLY) : 1;
        }

        Attention attention() {
            return attn;
        }

        Variable forward(Variable x, AttentionMask mask, KvCache cache) {
            return forward(x, x, mask, cache);
        }

        /** Queries and residual from xq (B, N, C), keys/values from xkv (B, T, C) (Perceiver AR's first layer) → (B, N, C). */
        @Override
        public Variable forward(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            if (post) { // x ← LN(α·x + f(x))
                Variable h = ln1.forward(skip(xq).add(drop.forward(mix(xq, xkv, mask, cache)))); // (B, N, C)
                return ln2.forward(skip(h).add(drop.forward(FeedForwardKinds.forward(mlp, h, mask, cache))));
            }
            Variable kv = ln1.forward(xkv);
            Variable h = xq.add(drop.forward(mix(xq == xkv ? kv : ln1.forward(xq), kv, mask, cache))); // (B, N, C)
            return h.add(drop.forward(FeedForwardKinds.forward(mlp, ln2.forward(h), mask, cache)));
        }

        /** Attention, or the token mixer in its place (xq = xkv there: no Perceiver AR), its recurrent state as the layer's cache. */
        private Variable mix(Variable xq, Variable xkv, AttentionMask mask, KvCache cache) {
            return mixer == null ? attn.forward(xq, xkv, mask, cache) : mixer.forward(xq, mask, MixerState.of(cache));
        }

        private Variable skip(Variable x) {
            return alpha == 1 ? x : x.mul(alpha);
        }
    }

    /** The body (Hugging Face {@code GPT2Model}, registered as {@code transformer}). */
    static final class Transformer extends Module {
        private final InputEmbedding wte; // TokenEmbedding, or E6's DeFINE
        private final LearnedPositions wpe;
        private final SinusoidalPositions sinusoidal;
        private final Dropout drop;
        private final ModuleList<Block> h;
        private final Hourglass hourglass;
        private final Layer lnF;
        private final int latents; // Perceiver AR's N, 0 otherwise

        Transformer(ModelConfig c, Generator g) {
            latents = PerceiverAr.latents(c);
            wte = child("wte", c.embedding() != null ? new Define(c.vocabSize(), c.dim(), c.embedding(), 0, c.initStd(), g, c.dtype())
                    : new TokenEmbedding(c.vocabSize(), c.dim(), c.initStd(), g, c.dtype()));
            wpe = c.positional() == Positional.LEARNED ? child("wpe", new LearnedPositions(c.contextLength(), c.dim(), c.initStd(), g, c.dtype())) : null;
            sinusoidal = c.positional() == Positional.SINUSOIDAL ? new SinusoidalPositions(c.dim()) : null;
            drop = child("drop", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
            h = child("h", new ModuleList<>());
            for (int l = 0; l < c.layers(); l++) {
                h.add(new Block(c, l, g));
            }
            hourglass = c.hourglass() == null ? null : child("hourglass", new Hourglass(c.hourglass(), c.dim(), c.bias(), g, c.dtype()));
            // post-norm blocks end in a norm already
            lnF = c.normPlacement() == NormPlacement.POST ? null
                    : (Layer) child("ln_f", c.normKind().create(c.dim(), c.normEps(), c.bias(), c.dtype()));
        }

        Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches, int past) {
            Variable x = wte.forward(ids); // (B, T, C)
            if (wpe != null) {
                x = wpe.forward(x, past); // (B, T, C)
            } else if (sinusoidal != null) {
                x = sinusoidal.forward(x, past);
            }
            x = drop.forward(x);
            if (latents > 0) {
                x = PerceiverAr.forward(java.util.stream.StreamSupport.stream(h.spliterator(), false).toList(), latents, x, mask, caches); // (B, n, C)
            } else if (hourglass != null) { // B27: the middle layers on the shortened sequence
                x = hourglass.forward(x, (l, y, m, cache) -> h.get(l).forward(y, m, cache), mask, caches, past); // (B, T, C)
            } else {
                for (int l = 0; l < h.size(); l++) {
                    x = h.get(l).forward(x, mask, caches == null ? null : caches.get(l)); // (B, T, C)
                    dev.tessera.nn.Probe.layerOutput(x);
                }
            }
            return lnF == null ? x : lnF.forward(x);
        }
    }

    private final ModelConfig config;
    private final Transformer transformer;
    private final LmHead head;

    /** Builds a GPT-2 from {@code c} (architecture GPT2), initialised from {@code g}. */
    public GPT2(ModelConfig c, Generator g) {
        if (c.architecture() != ModelConfig.Architecture.GPT2) {
            throw new IllegalArgumentException("GPT2: config is for architecture " + c.architecture());
        }
        this.config = c;
        transformer = child("transformer", new Transformer(c, g));
        // tied: lm_head shares wte's table, so namedParameters() lists it once, as transformer.wte.weight
        head = child("lm_head", c.tieEmbeddings() ? new LmHead(transformer.wte, g) : new LmHead(c.dim(), c.vocabSize(), g, c.dtype()));
        Models.initialise(this, c, g);
    }

    @Override
    public Variable forward(Tensor ids, AttentionMask mask, List<KvCache> caches) {
        int past = PerceiverAr.latents(config) > 0 ? PerceiverAr.past("GPT2", caches) : Models.checkInputs("GPT2", config, ids, caches);
        AttentionMask m = mask == null ? AttentionMask.causalOnly() : mask;
        Variable x = transformer.forward(ids, m, caches, past); // (B, T, C)
        return SoftCap.apply(head.forward(x), config.finalSoftCap()); // (B, T, V); Perceiver AR: (B, n, V) of the last n positions
    }

    /** Perceiver AR decodes with its two caches (see {@link PerceiverAr}); the others with one per layer. */
    @Override
    public List<KvCache> newCaches(int batch, int maxT) {
        return PerceiverAr.latents(config) > 0 ? PerceiverAr.newCaches(config, batch, maxT) : LanguageModel.super.newCaches(batch, maxT);
    }

    @Override
    public Variable readOut(Variable hidden) {
        Variable x = transformer.lnF == null ? hidden : transformer.lnF.forward(hidden);
        return SoftCap.apply(head.forward(x), config.finalSoftCap());
    }

    @Override
    public Module module() {
        return this;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** The blocks, for inspection (kernel kind). */
    List<Block> blocks() {
        return java.util.stream.StreamSupport.stream(transformer.h.spliterator(), false).toList();
    }

    // ---------------------------------------------------------------- Hugging Face layout

    /** The Conv1D weights, stored (in, out) by Hugging Face and (out, in) here. */
    static boolean isConv1D(String name) {
        return name.endsWith(".attn.c_attn.weight") || name.endsWith(".attn.c_proj.weight") || name.endsWith(".mlp.c_fc.weight")
                || name.endsWith(".mlp.c_proj.weight");
    }

    /** Our state dict → Hugging Face's: the four Conv1D weights per block transposed to (in, out); other tensors as they are. */
    public static Map<String, Tensor> toHuggingFaceLayout(Map<String, Tensor> state) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        state.forEach((k, t) -> out.put(k, isConv1D(k) && t.rank() == 2 ? t.transpose(0, 1).contiguous() : t));
        return out;
    }

    /**
     * A Hugging Face GPT-2 state dict → ours: Conv1D weights transposed to (out, in), names without
     * the {@code transformer.} prefix (OpenAI's original files) given it, and the causal-mask
     * buffers {@code attn.bias}/{@code attn.masked_bias} dropped. {@code lm_head.weight} is kept;
     * {@link #loadHuggingFace} drops it when the head is tied.
     */
    public static Map<String, Tensor> fromHuggingFaceLayout(Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        hf.forEach((k, t) -> {
            String name = k.startsWith("transformer.") || k.startsWith("lm_head.") ? k : "transformer." + k;
            if (name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias")) {
                return;
            }
            out.put(name, isConv1D(name) && t.rank() == 2 ? t.transpose(0, 1).contiguous() : t);
        });
        return out;
    }

    /** Loads a Hugging Face GPT-2 state dict (strict: every parameter must be present). */
    public void loadHuggingFace(Map<String, Tensor> hf) {
        Map<String, Tensor> ours = fromHuggingFaceLayout(hf);
        if (config.tieEmbeddings()) {
            ours.remove("lm_head.weight");
        }
        loadStateDict(ours, true);
    }
}
