package dev.tessera.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Every component ID of {@code COMPONENTS.md} in one table, in that file's order: its name, the
 * paper it comes from, the class that implements it, how a model switches it on, the test that
 * checks it and how far it is. The README's status table, {@code tessera components} and the
 * models module's {@code CatalogTest} all read this table, so they cannot disagree.
 *
 * <p>Classes and tests are fully qualified names, not class literals: whole models (I1, I2, I5) and
 * trainer features (G6, G7, H6) live in {@code models} or {@code autograd}, which nn may not import,
 * and the core of nn should not depend on its subpackages. {@code CatalogTest} resolves every name.
 *
 * <p>"done" keeps the meaning {@code COMPONENTS.md} gives it: one file whose javadoc names the
 * paper and writes the equation, a jqwik property against a double-precision reference, a
 * finite-difference gradient check, switchable in a config, and a short training run that lowers
 * the loss. "partial" says in its note what is missing.
 */
public final class Catalog {
    private Catalog() {}

    /** How far a component is. */
    public enum State {
        DONE("done"),
        PARTIAL("partial"),
        NOT_STARTED("not started");

        private final String label;

        State(String label) {
            this.label = label;
        }

        /** As the README writes it: done, partial, not started. */
        public String label() {
            return label;
        }

        /** done, partial, not started or not-started (case-insensitive); one-line error naming the valid ones. */
        public static State parse(String text) {
            String t = text.strip().toLowerCase(java.util.Locale.ROOT).replace('-', ' ').replace('_', ' ');
            for (State s : values()) {
                if (s.label.equals(t)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("Catalog: unknown state '" + text + "' (expected done, partial or not-started)");
        }
    }

    private static final Pattern ID = Pattern.compile("[A-IS][1-9][0-9]?");

    /**
     * One component.
     *
     * @param id the stable ID of COMPONENTS.md, e.g. {@code B11}
     * @param name what it is, short
     * @param paper the paper(s) it comes from: authors, year, title
     * @param className the fully qualified class that implements it, or null while not started
     * @param configSwitch how a model turns it on (a CLI flag, a config.json key or an API), or null while not started
     * @param testClass the fully qualified test class that checks it, or null while not started
     * @param state how far it is
     * @param note for PARTIAL what is missing; for DONE an optional remark; empty for none
     */
    public record Component(String id, String name, String paper, String className, String configSwitch, String testClass, State state,
            String note) {
        public Component {
            if (id == null || !ID.matcher(id).matches()) {
                throw new IllegalArgumentException("Catalog: invalid component ID '" + id + "'");
            }
            if (name == null || name.isBlank() || paper == null || paper.isBlank() || state == null || note == null) {
                throw new IllegalArgumentException("Catalog: " + id + " needs a name, a paper, a state and a note (empty for none)");
            }
            if (name.contains("|") || note.contains("|")) {
                throw new IllegalArgumentException("Catalog: " + id + ": name and note must not contain '|' (they are README table cells)");
            }
            if (state != State.NOT_STARTED && (className == null || configSwitch == null || testClass == null)) {
                throw new IllegalArgumentException("Catalog: " + id + " is " + state.label()
                        + " but lacks its class, config switch or test class");
            }
            if (state == State.PARTIAL && note.isBlank()) {
                throw new IllegalArgumentException("Catalog: " + id + " is partial; its note must say what is missing");
            }
        }

        /** The state as the README's table writes it: the label, and the note in parentheses if any. */
        public String stateText() {
            return note.isEmpty() ? state.label() : state.label() + " (" + note + ")";
        }

        /** The README table row: {@code | ID | name | state |}. */
        public String markdownRow() {
            return "| " + id + " | " + name + " | " + stateText() + " |";
        }
    }

    private static final String NN = "dev.tessera.nn.";
    private static final String MODELS = "dev.tessera.models.";

    private static Component todo(String id, String name, String paper) {
        return new Component(id, name, paper, null, null, null, State.NOT_STARTED, "");
    }

    private static Component done(String id, String name, String paper, String className, String configSwitch, String testClass) {
        return new Component(id, name, paper, className, configSwitch, testClass, State.DONE, "");
    }

    private static Component done(String id, String name, String paper, String className, String configSwitch, String testClass,
            String note) {
        return new Component(id, name, paper, className, configSwitch, testClass, State.DONE, note);
    }

    private static Component partial(String id, String name, String paper, String className, String configSwitch, String testClass,
            String missing) {
        return new Component(id, name, paper, className, configSwitch, testClass, State.PARTIAL, missing);
    }

    private static final List<Component> ALL = List.of(
            // A. The modern LLM recipe
            done("A1", "pre / post / sandwich norm placement",
                    "Xiong et al. 2020, On Layer Normalization in the Transformer Architecture; Ding et al. 2021, CogView (sandwich)",
                    NN + "norm.NormPlacement", "tessera.norm_placement=pre|post|sandwich", NN + "block.TransformerBlockTest"),
            done("A2", "LayerNorm, RMSNorm",
                    "Ba et al. 2016, Layer Normalization; Zhang & Sennrich 2019, Root Mean Square Layer Normalization",
                    NN + "norm.NormKind", "tessera.norm_kind=layer_norm|rms_norm", NN + "norm.NormTest"),
            done("A3", "bias on/off in linears and norms", "Touvron et al. 2023, LLaMA; Chowdhery et al. 2022, PaLM (no biases)",
                    NN + "Linear", "tessera.bias=true|false (attention_bias, mlp_bias)", NN + "norm.NormTest"),
            done("A4", "ReLU, GELU (erf, tanh), SiLU, squared ReLU",
                    "Hendrycks & Gimpel 2016, GELU; Ramachandran et al. 2017, Swish; So et al. 2021, Primer (squared ReLU)",
                    NN + "ffn.Activation", "tessera.activation=relu|gelu_erf|gelu_tanh|silu|squared_relu", NN + "ffn.ActivationTest"),
            done("A5", "GLU, ReGLU, GeGLU, SwiGLU with the 8/3·d rule",
                    "Shazeer 2020, GLU Variants Improve Transformer; Dauphin et al. 2017",
                    NN + "ffn.FeedForward", "tessera.ffn_kind=mlp|glu|reglu|geglu|swiglu", NN + "ffn.FeedForwardTest"),
            done("A6", "serial and parallel blocks", "Wang & Komatsuzaki 2021, GPT-J; Chowdhery et al. 2022, PaLM",
                    NN + "block.BlockStyle", "nn: TransformerBlock.Config style SERIAL|PARALLEL", NN + "block.TransformerBlockTest"),
            done("A7", "RoPE, interleaved and half-split, any base incl. 500000",
                    "Su et al. 2021, RoFormer; Dubey et al. 2024, The Llama 3 Herd of Models (base 500000)",
                    NN + "position.RotaryEmbedding", "tessera.positional=rope_half_split|rope_interleaved, rope_theta",
                    NN + "position.RotaryEmbeddingTest"),
            done("A8", "MHA / MQA / GQA with KV cache",
                    "Vaswani et al. 2017; Shazeer 2019, Fast Transformer Decoding (MQA); Ainslie et al. 2023, GQA",
                    NN + "attention.MultiHeadAttention", "num_key_value_heads (1 for MQA, a divisor of num_attention_heads for GQA)",
                    NN + "attention.MultiHeadAttentionTest"),
            done("A9", "causal and document masks for packed sequences",
                    "Vaswani et al. 2017; Dubey et al. 2024, The Llama 3 Herd of Models",
                    NN + "attention.AttentionMask", "always on: causal, and the document mask of packed training data",
                    NN + "attention.MultiHeadAttentionTest"),
            done("A10", "z-loss",
                    "Chowdhery et al. 2022, PaLM", NN + "loss.Losses", "--z-loss 1e-4 (tessera.z_loss)", NN + "loss.LossesTest"),
            done("A11", "QK-norm", "Henry et al. 2020, Query-Key Normalization; Dehghani et al. 2023, Scaling Vision Transformers to 22B",
                    NN + "attention.MultiHeadAttention", "tessera.qk_norm=true", NN + "attention.MultiHeadAttentionTest"),
            done("A12", "attention and final logit soft-capping",
                    "Bello et al. 2016, Neural Combinatorial Optimization; Gemma Team 2024, Gemma 2",
                    NN + "attention.SoftCap", "tessera.attention_softcap, tessera.final_softcap", NN + "attention.MultiHeadAttentionTest"),
            done("A13", "logit scaling 1/√d (attention scores and output logits)", "Vaswani et al. 2017; Chowdhery et al. 2022, PaLM",
                    NN + "attention.LogitScale", "nn: Decoder.Config logitScale (attention scores: always 1/√d)",
                    NN + "attention.LogitScaleTest"),
            done("A14", "dropout (residual, attention, embedding), seeded", "Srivastava et al. 2014, Dropout",
                    NN + "Dropout", "tessera.dropout (attention_dropout, resid_pdrop, embd_pdrop)", NN + "DropoutTest"),
            done("A15", "tied/untied, factorized embeddings, cross-layer sharing",
                    "Press & Wolf 2017, Using the Output Embedding to Improve Language Models; Lan et al. 2019, ALBERT",
                    NN + "block.TokenEmbedding", "tie_word_embeddings; nn: Decoder.Config embeddingDim, shareLayers",
                    NN + "block.EmbeddingTest"),
            done("A16", "embedding LayerNorm",
                    "Scao et al. 2022, BLOOM", NN + "block.TokenEmbedding", "nn: Decoder.Config embeddingLayerNorm",
                    NN + "block.EmbeddingTest"),
            // B. Attention variants and efficient attention
            done("B1", "KeyNorm", "Su 2023, Key normalisation helps length extrapolation (kexue.fm/archives/9859)",
                    NN + "attention.KeyNormAttention", "--attention keynorm", NN + "attention.KeyNormAttentionTest"),
            done("B2", "Performer FAVOR+ (bidirectional, causal prefix sums, redraw, recurrent decoding)",
                    "Choromanski et al. 2021, Rethinking Attention with Performers", NN + "attention.PerformerAttention",
                    "--attention performer", NN + "attention.PerformerAttentionTest"),
            done("B3", "linear attention (elu+1), fast weight programmers / DeltaNet",
                    "Katharopoulos et al. 2020, Transformers are RNNs; "
                            + "Schlag et al. 2021, Linear Transformers Are Secretly Fast Weight Programmers",
                    NN + "attention.LinearAttention", "--attention linear, --attention deltanet", NN + "attention.LinearAttentionTest",
                    "DeltaNet in DeltaNetAttention (chunkwise + recurrent); golden fixtures vs fla"),
            done("B4", "memory-efficient exact attention (online softmax, O(T) memory, recomputed backward)",
                    "Rabe & Staats 2021, Self-attention Does Not Need O(n²) Memory; Dao et al. 2022, FlashAttention",
                    NN + "attention.MemoryEfficientAttention", "--attention memory_efficient",
                    NN + "attention.MemoryEfficientAttentionTest",
                    "F32 on the Vector API in FlashAttention-2's loop order (training's causal softmax path takes it when the blocked GEMM"
                            + " path would save over 128 MiB of probabilities a layer, e.g. the gpt2 preset; below that the blocked"
                            + " path is faster in A/B; -Dtessera.attention.flash=true, false or auto); F64 in scalar double"),
            done("B5", "sliding-window / local attention", "Beltagy et al. 2020, Longformer; Jiang et al. 2023, Mistral 7B",
                    NN + "attention.SlidingWindowAttention", "--attention sliding_window --attention-option window=N",
                    NN + "attention.SlidingWindowAttentionTest"),
            done("B6", "strided and fixed sparse patterns, GPT-3 alternating dense/banded",
                    "Child et al. 2019, Generating Long Sequences with Sparse Transformers; Brown et al. 2020, GPT-3",
                    NN + "attention.SparseTransformerAttention", "--attention strided | fixed | alternating (--attention-option stride=, summary=, window=)",
                    NN + "attention.SparseTransformerAttentionTest",
                    "merged-head union of the two factors; defaults l = 8, c = 2, band W = 8; golden vs GPT-Neo global/local"),
            done("B7", "dilated attention (LongNet)", "Ding et al. 2023, LongNet: Scaling Transformers to 1,000,000,000 Tokens",
                    NN + "attention.DilatedAttention", "--attention dilated (--attention-option segments=4,8,16 rates=1,2,4 head_offsets=true)", NN + "attention.DilatedAttentionTest",
                    "blocks of L = lcm(w) positions, O(T·L) (not LongNet's gather of kept rows); AttentionScalingBenchmark in the README"),
            done("B8", "blockwise attention", "Qiu et al. 2020, Blockwise Self-Attention for Long Document Understanding",
                    NN + "attention.BlockwiseAttention", "--attention blockwise (--attention-option blocks=, shifts=; bidirectional: the decoders refuse it)",
                    NN + "attention.BlockwiseAttentionTest",
                    "cyclic-shift permutation per head, default n = 2; trained in the BERT encoder (EncoderAttentionKindsTest) and an nn masked-neighbour task"),
            done("B9", "top-k explicit sparse attention", "Zhao et al. 2019, Explicit Sparse Transformer",
                    NN + "attention.TopKAttention", "--attention topk --attention-option k=K", NN + "attention.TopKAttentionTest",
                    "ties at the k-th score all kept"),
            done("B10", "Transformer-VQ (VQ keys, linear-time cache)",
                    "Lingle 2023, Transformer-VQ: Linear-Time Transformers via Vector Quantization", NN + "attention.VqAttention",
                    "--attention vq [--attention-option codebook_size=S] [--attention-option block_length=L] [--attention-option commitment=β]",
                    NN + "attention.VqAttentionTest",
                    "causal only; codebook trained by the VQ-VAE codebook loss (not EMA) plus β·commitment, a Regularizer; "
                            + "windowed bias is a learned scalar per head and distance (not the paper's Transformer-XL bias)"),
            done("B11", "RetNet retention (parallel, recurrent, chunkwise)",
                    "Sun et al. 2023, Retentive Network: A Successor to Transformer for LLMs", NN + "attention.RetentionAttention",
                    "--attention retnet [--attention-option chunk=C]", NN + "attention.RetentionAttentionTest",
                    "the retention kernel (γ_h = 1 − 2^(−5−h), scores/√D), parallel or chunkwise by option, recurrent step; golden vs fla "
                            + "naive_retention / simple_gla; GroupNorm and swish gate of the MSR layer need the block input, left to I4; "
                            + "models decode through the KV cache"),
            done("B12", "AFT (attention free transformer)", "Zhai et al. 2021, An Attention Free Transformer",
                    NN + "attention.AftAttention", "--attention aft", NN + "attention.AftAttentionTest",
                    "AFT-full by name; AFT-local and AFT-simple (linear, prefix sums) as AftAttention variants; AFT-conv not included"),
            done("B13", "Synthesizer (dense and random)", "Tay et al. 2021, Synthesizer: Rethinking Self-Attention in Transformer Models",
                    NN + "attention.SynthesizerAttention", "--attention synthesizer_random | synthesizer_dense",
                    NN + "attention.SynthesizerAttentionTest",
                    "Random: learned NH × maxT × maxT R, N(0, 0.02²); Dense uses per-head q as x (a kernel sees no block input); factorized/mixed not included"),
            done("B14", "cosine attention (Swin v2)", "Liu et al. 2022, Swin Transformer V2", NN + "attention.CosineAttention",
                    "--attention cosine", NN + "attention.CosineAttentionTest"),
            done("B15", "talking heads / collaborative heads",
                    "Shazeer et al. 2020, Talking-Heads Attention; "
                            + "Cordonnier et al. 2020, Multi-Head Attention: Collaborate Instead of Concatenate",
                    NN + "attention.TalkingHeadsAttention", "--attention talking_heads | collaborative",
                    NN + "attention.TalkingHeadsAttentionTest",
                    "talking heads: timm CaiT golden, no map biases, identity init; collaborative in CollaborativeAttention (+Test): shared D̃ = H·D (the attention's q/k projections), block-diagonal init"),
            done("B16", "RealFormer residual attention", "He et al. 2021, RealFormer: Transformer Likes Residual Attention",
                    NN + "attention.RealFormerAttention", "--attention realformer", NN + "attention.RealFormerAttentionTest",
                    "the decoders link their layers' kernels once built (RealFormerAttention.link); unmasked scores carried; no attention dropout"),
            done("B17", "Nyström / Skyformer", "Xiong et al. 2021, Nyströmformer; Chen et al. 2021, Skyformer",
                    NN + "attention.NystromAttention", "--attention nystrom | skyformer [--attention-option landmarks=m] (encoders; the causal decoders refuse them)",
                    NN + "attention.NystromAttentionTest",
                    "bidirectional only: trained in the BERT encoder (EncoderAttentionKindsTest) and in an nn masked-token task;"
                            + " golden fixture vs transformers NystromformerSelfAttention; Skyformer in SkyformerAttention"
                            + " (paper only, landmarks sampled per call); AttentionScalingBenchmark in the README"),
            done("B18", "clustered attention", "Vyas et al. 2020, Fast Transformers with Clustered Attention",
                    NN + "attention.ClusteredAttention", "--attention clustered [--attention-option clusters=C] [--attention-option iterations=L]",
                    NN + "attention.ClusteredAttentionTest",
                    "bidirectional only: trained in the encoder (models EncoderAttentionKindsTest), one document per row (no document mask, so not from the CLI's packed data); K-means on the queries, no LSH hashing; improved (top-k) variant not done"),
            done("B19", "Luna (nested linear attention)", "Ma et al. 2021, Luna: Linear Unified Nested Attention",
                    NN + "attention.LunaAttention", "--attention luna [--attention-option pack_length=l]", NN + "attention.LunaAttentionTest",
                    "bidirectional only: trained in the encoder (models EncoderAttentionKindsTest), one document per row; each layer learns its own P (P' not passed between layers); causal Luna not done"),
            done("B20", "Long-Short Transformer", "Zhu et al. 2021, Long-Short Transformer",
                    NN + "attention.LongShortAttention", "--attention long_short [--attention-option window=W] [--attention-option rank=r] [--attention-option segment=l]",
                    NN + "attention.LongShortAttentionTest",
                    "defaults W 16, r 1, l 8; causal = the paper's segment-wise dynamic projection; P from the head's keys (a kernel sees no block input); no golden: paper only"),
            done("B21", "cosFormer / SOFT / Sinkformer (doubly stochastic)",
                    "Qin et al. 2022, cosFormer; Lu et al. 2021, SOFT: Softmax-free Transformer; Sander et al. 2022, Sinkformers",
                    NN + "attention.CosFormerAttention", "--attention cosformer | sinkformer [--attention-option iterations=n] | soft [--attention-option landmarks=m]",
                    NN + "attention.CosFormerAttentionTest",
                    "cosFormer causal by prefix sums with a recurrent form, M = context length; Sinkformer and SOFT bidirectional only"
                            + " (SinkformerAttention, SoftAttention; trained in the BERT encoder, EncoderAttentionKindsTest); Sinkhorn step golden vs"
                            + " transformers SuperGlue log_sinkhorn_iterations; SOFT landmarks are key segment means (the paper ties Q = K)"),
            done("B22", "XCiT cross-covariance attention", "El-Nouby et al. 2021, XCiT: Cross-Covariance Image Transformers",
                    NN + "attention.XcitAttention", "--attention xcit (bidirectional only)", NN + "attention.XcitAttentionTest",
                    "bidirectional only: trained in the BERT encoder (EncoderAttentionKindsTest) and an nn masked-token task; "
                            + "golden vs timm XCA"),
            done("B23", "Perceiver / Perceiver AR latent cross-attention",
                    "Jaegle et al. 2021, Perceiver; Hawthorne et al. 2022, Perceiver AR",
                    NN + "attention.PerceiverAttention",
                    "--attention perceiver [--attention-option latents=N] | perceiver_ar [--attention-option latents=N]",
                    NN + "attention.PerceiverAttentionTest",
                    "Perceiver latents (cross, one latent self-attention step, read back) bidirectional only: trained in the encoder"
                            + " (models EncoderAttentionKindsTest); cross step golden vs transformers PerceiverSelfAttention(is_cross_attention=True);"
                            + " Perceiver AR in Llama and GPT-2 (models PerceiverArModelTest): loss on the last N targets, cached decoding exact for the last"
                            + " position's logits (first-layer keys/values and inputs cached, the N-latent stack recomputed each step)"),
            done("B24", "CoLT5 conditional routing", "Ainslie et al. 2023, CoLT5: Faster Long-Range Transformers with Conditional Computation",
                    NN + "attention.ConditionalAttention", "--attention conditional [--attention-option window=W] [--attention-option routed=m];"
                            + " tessera.ffn_kind=conditional [tessera.ffn_options light_hidden=h, routed=m]",
                    NN + "attention.ConditionalAttentionTest",
                    "conditional attention + conditional FFN (ffn.ConditionalFeedForward, ConditionalFeedForwardTest); bidirectional only:"
                            + " both trained in the BERT encoder (models EncoderAttentionKindsTest, EncoderConditionalFeedForwardTest), the"
                            + " causal decoders refuse them; one document per row; sigmoid router scores instead of the iterative soft top-k"),
            done("B25", "adaptive attention span", "Sukhbaatar et al. 2019, Adaptive Attention Span in Transformers",
                    NN + "attention.AdaptiveSpanAttention", "--attention adaptive_span [--attention-option span_loss=λ] [--attention-option ramp=R]",
                    NN + "attention.AdaptiveSpanAttentionTest",
                    "L1 span penalty λ·mean_h z_h per layer added by the trainer (a Regularizer); z starts at maxPositions / 2"),
            done("B26", "neighborhood attention", "Hassani et al. 2023, Neighborhood Attention Transformer",
                    NN + "attention.NeighborhoodAttention", "--attention neighborhood [--attention-option kernel_size=k]",
                    NN + "attention.NeighborhoodAttentionTest",
                    "1-D, k odd, default 7; the decoders use the causal variant (the k previous positions); no golden: natten is not in the mirror"),
            done("B27", "Hourglass (shortening / upsampling)",
                    "Nawrot et al. 2022, Hierarchical Transformers Are More Efficient Language Models", NN + "block.Hourglass",
                    "--hourglass pre@1,shortened@k,post@1[/avg|linear[/repeat|linear]]", NN + "block.HourglassTest",
                    "one shortened level in Llama and GPT-2 (models.HourglassModelTest); avg or linear pooling, repeat or linear upsampling"
                            + " (no attention up/downsampling); exact KV-cached decoding"),
            done("B28", "average attention network", "Zhang et al. 2018, Accelerating Neural Transformer via an Average Attention Network",
                    NN + "attention.AverageAttention", "--attention average", NN + "attention.AverageAttentionTest",
                    "kernel form: y = v, FFN and gates per head; causal only"),
            done("B29", "mixture of Gaussian keys / attention without probability cage",
                    "Nguyen et al. 2022, Improving Transformers with Probabilistic Attention Keys; "
                            + "Richter & Wattenhofer 2020, Normalized Attention Without Probability Cage",
                    NN + "attention.GaussianKeysAttention", "--attention gaussian_keys [--attention-option components=R] | normalized",
                    NN + "attention.GaussianKeysAttentionTest",
                    "normalised attention in NormalizedAttention (+Test); MGK's R keys (option components, default 2) are k·A_r maps in the kernel (a kernel sees no block input), π per head, σ² = √D fixed"),
            done("B30", "gated attention unit (GAU / FLASH)", "Hua et al. 2022, Transformer Quality in Linear Time",
                    NN + "attention.GauAttention", "--attention gau [--attention-option chunk=C]", NN + "attention.GauAttentionTest",
                    "kernel form: relu²(QKᵀ/maxT + b) V with per-head scale-offset Q, K from the model's q, k and a relative bias; "
                            + "the U gate, shared Z and W_o need the block input (GAU replacing the FFN not reproduced); "
                            + "chunk=C gives causal FLASH mixed chunks, chunked == full; no golden: REFERENCES names the paper only"),
            todo("B31", "CrossFormer long/short-distance attention",
                    "Wang et al. 2021, CrossFormer: A Versatile Vision Transformer Hinging on Cross-scale Attention"),
            todo("B32", "NesT block aggregation", "Zhang et al. 2022, Nested Hierarchical Transformer"),
            todo("B33", "FMMformer near-field banded + far-field low-rank",
                    "Nguyen et al. 2021, FMMformer: Efficient and Flexible Transformer via Decomposed Near-field and Far-field Attention"),
            todo("B34", "Hamburger matrix-decomposition mixer (NMF)", "Geng et al. 2021, Is Attention Better Than Matrix Decomposition?"),
            todo("B35", "Kronecker attention", "Gao et al. 2020, Kronecker Attention Networks"),
            todo("B36", "FourierFormer (Fourier integral attention)",
                    "Nguyen et al. 2022, FourierFormer: Transformer Meets Generalized Fourier Integral Theorem"),
            todo("B37", "LARA linear randomized attention", "Zheng et al. 2022, Linear Complexity Randomized Self-attention Mechanism"),
            todo("B38", "UFO-ViT cross-normalization (XNorm)",
                    "Song 2021, UFO-ViT: High Performance Linear Vision Transformer without Softmax"),
            todo("B39", "SimpleTRON", "Yorsh et al. 2021, SimpleTRON: Simple Transformer with O(N) Complexity"),
            todo("B40", "learned-kernel random-feature attention (KL-Transformer)",
                    "Chowdhury et al. 2021, Learning the Transformer Kernel"),
            todo("B41", "momentum transformer",
                    "Nguyen et al. 2022, Momentum Transformer: Closing the Performance Gap Between Self-attention and Its Linearization"),
            todo("B42", "Scatterbrain (sparse + low-rank)",
                    "Chen et al. 2021, Scatterbrain: Unifying Sparse and Low-rank Attention Approximation"),
            todo("B43", "sparse factorization of the attention matrix",
                    "Khalitov et al. 2022, Sparse Factorization of Square Matrices with Application to Neural Attention Modeling"),
            todo("B44", "H-Transformer-1D hierarchical attention",
                    "Zhu & Soricut 2021, H-Transformer-1D: Fast One-Dimensional Hierarchical Attention"),
            todo("B45", "ChunkFormer multi-stage chunked attention",
                    "Ju et al. 2021, ChunkFormer: Learning Long Time Series with Multi-stage Chunked Transformer"),
            todo("B46", "LogSparse attention with convolutional queries/keys",
                    "Li et al. 2019, Enhancing the Locality and Breaking the Memory Bottleneck of Transformer on Time Series Forecasting"),
            todo("B47", "LongT5 transient-global attention",
                    "Guo et al. 2022, LongT5: Efficient Text-To-Text Transformer for Long Sequences"),
            todo("B48", "separable self-attention (MobileViT v2)",
                    "Mehta & Rastegari 2022, Separable Self-attention for Mobile Vision Transformers"),
            todo("B49", "YOSO (Bernoulli-sampling attention)",
                    "Zeng et al. 2021, You Only Sample (Almost) Once: Linear Cost Self-Attention via Bernoulli Sampling"),
            todo("B50", "kernel-smoother attention (Transformer Dissection)",
                    "Tsai et al. 2019, Transformer Dissection: A Unified Understanding of Transformer's Attention via the Lens of Kernel"),
            todo("B51", "Combiner (structured factorization)",
                    "Ren et al. 2021, Combiner: Full Attention Transformer with Sparse Computation Cost"),
            todo("B52", "ripple attention", "Zheng et al. 2022, Ripple Attention for Visual Perception with Sub-quadratic Complexity"),
            todo("B53", "value-aware approximate attention", "Gupta & Berant 2021, Value-aware Approximate Attention"),
            todo("B54", "Flowformer (flow-conservation linear attention)",
                    "Wu et al. 2022, Flowformer: Linearizing Transformers with Conservation Flows"),
            todo("B55", "exponential-smoothing attention (ETSformer)",
                    "Woo et al. 2022, ETSformer: Exponential Smoothing Transformers for Time-series Forecasting"),
            todo("B56", "IGLOO slicing", "Sourkov 2018, IGLOO: Slicing the Features Space to Represent Sequences"),
            todo("B57", "skip-attention (reusing earlier layers' attention maps)",
                    "Venkataramanan et al. 2023, Skip-Attention: Improving Vision Transformers by Paying Less Attention"),
            todo("B58", "slot attention", "Locatello et al. 2020, Object-Centric Learning with Slot Attention"),
            todo("B59", "merged attention (attention merged with the FFN)",
                    "Zhang, Titov & Sennrich 2019, Improving Deep Transformer with Depth-Scaled Initialization and Merged Attention"),
            // C. Positional encodings
            done("C1", "sinusoidal and learned absolute positions", "Vaswani et al. 2017; Radford et al. 2019 (GPT-2's wpe)",
                    NN + "position.SinusoidalPositions", "tessera.positional=learned|sinusoidal", NN + "position.PositionsTest"),
            todo("C2", "T5 relative bias buckets",
                    "Raffel et al. 2020, Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer"),
            todo("C3", "Transformer-XL relative encoding and segment recurrence", "Dai et al. 2019, Transformer-XL"),
            done("C4", "ALiBi", "Press, Smith & Lewis 2022, Train Short, Test Long: Attention with Linear Biases",
                    NN + "position.ALiBiAttention", "--attention alibi (positional none)", NN + "position.ALiBiAttentionTest"),
            todo("C5", "KERPLE", "Chi et al. 2022, KERPLE: Kernelized Relative Positional Embedding for Length Extrapolation"),
            todo("C6", "NoPE", "Kazemnejad et al. 2023, The Impact of Positional Encoding on Length Generalization in Transformers"),
            todo("C7", "randomized positional encodings",
                    "Ruoss et al. 2023, Randomized Positional Encodings Boost Length Generalization of Transformers"),
            todo("C8", "DeBERTa disentangled attention", "He et al. 2021, DeBERTa: Decoding-enhanced BERT with Disentangled Attention"),
            todo("C9", "TUPE (untied positional encoding)", "Ke et al. 2021, Rethinking Positional Encoding in Language Pre-training"),
            todo("C10", "xPos / RoPE scaling (NTK, interpolation)",
                    "Sun et al. 2023, A Length-Extrapolatable Transformer; "
                            + "Chen et al. 2023, Extending Context Window via Positional Interpolation"),
            todo("C11", "PermuteFormer / kernelized relative PE",
                    "Chen 2021, PermuteFormer: Efficient Relative Position Encoding for Long Sequences"),
            todo("C12", "complex-valued word order embeddings", "Wang et al. 2020, Encoding Word Order in Complex Embeddings"),
            todo("C13", "decoupled absolute PE (simple and effective PE)",
                    "Chen et al. 2021, A Simple and Effective Positional Encoding for Transformers"),
            todo("C14", "DecBERT causal-mask position signal",
                    "Fan et al. 2022, DecBERT: Enhancing the Language Understanding of BERT with Causal Attention Masks"),
            todo("C15", "improved relative position embeddings",
                    "Huang et al. 2020, Improve Transformer Models with Better Relative Position Embeddings"),
            todo("C16", "translation-equivariant relative PE for kernelized attention",
                    "Horn et al. 2021, Translational Equivariance in Kernelizable Attention"),
            todo("C17", "relative PE in kernelized attention via FFT",
                    "Luo et al. 2021, Stable, Fast and Accurate: Kernelized Attention with Relative Positional Encoding"),
            // D. Normalization, residual and initialization
            done("D1", "DeepNorm α, β and init", "Wang et al. 2022, DeepNet: Scaling Transformers to 1,000 Layers", NN + "norm.DeepNorm",
                    "tessera.deep_norm=true with norm_placement=post", NN + "norm.DeepNormTest", "`ModelConfig.deepNorm`, post-norm"),
            todo("D2", "ReZero", "Bachlechner et al. 2021, ReZero is All You Need: Fast Convergence at Large Depth"),
            todo("D3", "SkipInit / DS-Init (depth-scaled init)",
                    "De & Smith 2020, Batch Normalization Biases Residual Blocks Towards the Identity Function; "
                            + "Zhang, Titov & Sennrich 2019 (DS-Init)"),
            todo("D4", "Admin", "Liu et al. 2020, Understanding the Difficulty of Training Transformers"),
            todo("D5", "ScaleNorm", "Nguyen & Salazar 2019, Transformers without Tears"),
            todo("D6", "BatchNorm, GroupNorm", "Ioffe & Szegedy 2015, Batch Normalization; Wu & He 2018, Group Normalization"),
            done("D7", "GPT-2 scaled residual init", "Radford et al. 2019, Language Models are Unsupervised Multitask Learners",
                    NN + "norm.ResidualScaling", "on for architecture gpt2 (Models.create)", NN + "norm.ResidualScalingTest"),
            todo("D8", "muP parametrization (muTransfer)",
                    "Yang et al. 2021, Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter Transfer"),
            todo("D9", "layer scale / zero-init branch output", "Touvron et al. 2021, Going Deeper with Image Transformers (LayerScale)"),
            todo("D10", "B2T residual connection", "Takase et al. 2022, On Layer Normalizations and Residual Connections in Transformers"),
            todo("D11", "simplified transformer blocks (no skip, value, projection params)",
                    "He & Hofmann 2023, Simplifying Transformer Blocks"),
            // E. Feed-forward and token mixers
            done("E1", "product-key memory (PKM)", "Lample et al. 2019, Large Memory Layers with Product Keys", NN + "ffn.ProductKeyMemory",
                    "--ffn pkm [--ffn-option keys=n] [--ffn-option top_k=k] [--ffn-option heads=H] [--ffn-option key_dim=d]"
                            + " [--ffn-option layers=1,3]", NN + "ffn.ProductKeyMemoryTest",
                    "in place of the FFN of the chosen layers (option layers) of Llama or GPT-2 (models.PkmModelTest); k² candidates from two"
                            + " sub-key top-k == exhaustive top-k over all n² keys (jqwik, F64); multi-head, softmax-weighted EmbeddingBag of"
                            + " values; no BatchNorm on the queries (departure, for causal decoding); paper only, no golden"),
            done("E2", "gMLP spatial gating unit", "Liu et al. 2021, Pay Attention to MLPs", NN + "mixer.Gmlp",
                    "--mixer gmlp [--mixer-option length=n] [--mixer-option hidden=F] [--mixer-option causal=false]", NN + "mixer.GmlpTest",
                    "causal (default; lower-triangular W) in Llama/GPT-2 or causal=false in BERT (models.MlpMixersModelTest);"
                            + " full forward == chunked decoding from cached LN(Z2) rows (O(t) per token, state <= length rows: W reads"
                            + " every past position); each packed document / padding run uses W, b from its own start; paper init W~0,"
                            + " b=1; golden: timm GatedMlp + SpatialGatingUnit"),
            done("E3", "MLP-Mixer token mixing", "Tolstikhin et al. 2021, MLP-Mixer: An all-MLP Architecture for Vision", NN + "mixer.MlpMixer",
                    "--mixer mlp_mixer [--mixer-option length=n] [--mixer-option hidden=D] [--mixer-option causal=false]",
                    NN + "mixer.MlpMixerTest",
                    "causal (default; hidden = length, lower-triangular W1, W2) in Llama/GPT-2 or causal=false in BERT"
                            + " (models.MlpMixersModelTest); full forward == chunked decoding from cached inputs and hidden rows (O(t)"
                            + " per token, state <= length rows); each packed document / padding run mixed alone; golden: timm"
                            + " MixerBlock.mlp_tokens"),
            done("E4", "S2-MLP spatial shift / ShiftViT / token shift",
                    "Yu et al. 2022, S2-MLP: Spatial-Shift MLP Architecture for Vision; "
                            + "Wang et al. 2022, When Shift Operation Meets Vision Transformer", NN + "mixer.Shift",
                    "--mixer shift [--mixer-option mode=token|spatial] [--mixer-option causal=false]", NN + "mixer.ShiftTest",
                    "mode token (RWKV token shift + output projection, causal, O(1) state: the last token; golden: fla"
                            + " token_shift_ref, batched and varlen) and mode spatial (S2-MLP shift between two channel projections,"
                            + " 1-D: half the channels from t-1, half from t+1, or t-2 when causal, O(1) state: two rows) in Llama/GPT-2"
                            + " or BERT (models.MlpMixersModelTest); documents shift in zeros at their ends; ShiftViT's 2-D shift is the"
                            + " same operation on images (not built: no 2-D inputs)"),
            done("E5", "HyperMixer", "Mai et al. 2023, HyperMixer: An MLP-based Low Cost Alternative to Transformers", NN + "mixer.HyperMixer",
                    "--mixer hypermixer [--mixer-option length=n] [--mixer-option hidden=D] [--mixer-option causal=false]",
                    NN + "mixer.HyperMixerTest",
                    "causal (default; the token sum over the past, a prefix sum: O(1) state S, D x C) in Llama/GPT-2 or"
                            + " causal=false (the paper's) in BERT (models.MlpMixersModelTest); full forward == chunked decoding;"
                            + " learned positions; untied hypernetworks; each packed document / padding run mixed alone; no golden:"
                            + " paper-only"),
            done("E6", "DeLighT / DeFINE", "Mehta et al. 2021, DeLighT: Deep and Light-weight Transformer; Mehta et al. 2020, DeFINE",
                    NN + "mixer.DelightAttention", "--mixer delight [--mixer-option depth=N] [--mixer-option width_mult=w]"
                            + " [--mixer-option max_groups=g] [--mixer-option n_min=a --mixer-option n_max=b] | --ffn delight"
                            + " [--ffn-option depth=N|0] [--ffn-option width_mult=w] [--ffn-option max_groups=g] [--ffn-option reduction=r]"
                            + " [--ffn-option n_min=a --ffn-option n_max=b] | --embedding define [--embedding-option dim=n]"
                            + " [--embedding-option depth=N] [--embedding-option width=k] [--embedding-option max_groups=g]",
                    NN + "mixer.DelightAttentionTest",
                    "DeLighT: one DExTra (ffn.Dextra: N group linear transforms, expand to w_m·d_m then reduce to d_o, groups"
                            + " min(2^(l-1), g_max) mirrored, channel shuffle, input mixer) before single-head causal attention of width"
                            + " d_o = d_m/2 and its projection back to d_m (--mixer delight; decoding holds the keys and values, O(t) per"
                            + " token as attention), and the light FFN d_m → d_m/r → d_m (--ffn delight; depth=0 is the paper's block,"
                            + " depth N also puts a DExTra in the FFN slot); block-wise scaling N^b, w_m^b from the layer index on both"
                            + " (models.DelightBlockModelTest, models.DelightModelTest, ffn.DelightTest). DeFINE (block.Define,"
                            + " block.DefineTest, models.DefineModelTest): the decoders' token embedding as map-expand-reduce, a"
                            + " √n-scaled n-wide lookup, the hierarchical group transform (Dextra's GLT and split-and-mix skip, groups"
                            + " min(2^(N-l), g_max) halving to 1, widths n → k) and a linear layer on [ŷᴺ; e] to d_m (--embedding"
                            + " define, Llama and GPT-2; a tied head reads logits through the n-wide table); fewer parameters than the"
                            + " V·d_m table; GLTs linear as eq. 1 of DeLighT (the authors' norm/activation per layer not followed);"
                            + " the DeFINE paper's text was not at hand (schedule read from reviews of it and the authors'"
                            + " DeLighT code); no golden: paper only"),
            done("E7", "FNet (FFT mixing)", "Lee-Thorp et al. 2022, FNet: Mixing Tokens with Fourier Transforms", NN + "mixer.FNet",
                    "--model bert --mixer fnet", NN + "mixer.FNetTest",
                    "bidirectional only: replaces attention in every BERT layer (models.MlpMixersModelTest, masked-LM); decoders refuse it;"
                            + " Re(FFT2) as DFT matrix products; each packed document / padding run transformed alone;"
                            + " golden: transformers FNetBasicFourierTransform"),
            done("E8", "Global filter / AFNO (FFT filters)",
                    "Rao et al. 2021, Global Filter Networks; Guibas et al. 2022, Adaptive Fourier Neural Operators", NN + "mixer.GlobalFilter",
                    "--model bert --mixer global_filter [--mixer-option length=n] [--mixer-option mode=filter|afno] [--mixer-option blocks=nb]"
                            + " [--mixer-option shrink=λ]", NN + "mixer.GlobalFilterTest",
                    "mode filter (GFNet: rFFT, learnable complex K, inverse) and mode afno (block-diagonal complex MLP, ReLU,"
                            + " soft-shrink): bidirectional only, in BERT (models.MlpMixersModelTest); 1-D over time, sequences"
                            + " zero-padded to the option length; each packed document / padding run transformed alone; AFNO without"
                            + " mode truncation (all modes kept), hidden factor 1; no golden: paper-only"),
            done("E9", "Hyena and H3 (long convolutions, FFT conv)",
                    "Poli et al. 2023, Hyena Hierarchy; Fu et al. 2023, Hungry Hungry Hippos", NN + "mixer.Hyena",
                    "--mixer hyena [--mixer-option order=N] [--mixer-option length=L] [--mixer-option emb=E] [--mixer-option hidden=H]"
                            + " [--mixer-option depth=d] [--mixer-option activation=sin|relu] [--mixer-option decay=true|false]"
                            + " | --mixer h3 [--mixer-option state=N] [--mixer-option shift=W] [--mixer-option dt_min=Δ] [--mixer-option dt_max=Δ]",
                    NN + "mixer.HyenaTest",
                    "Hyena of order N (implicit Sin-MLP filters on positional features with the"
                            + " exponential decay window, short conv, gating recursion, FFT long conv) replaces attention in every layer of Llama"
                            + " or GPT-2 (models.HyenaModelTest): == naive loop == token-by-token == chunked; decoding holds the last"
                            + " min(L, t) inputs of each convolution, O(N·min(L, t)) per token; restarts at packed documents; golden for the"
                            + " implicit filter and fft_conv vs fla ImplicitLongConvolution (HyenaGoldenTest). H3 in mixer.H3 (mixer.H3Test,"
                            + " models.H3ModelTest): Algorithm 1 with d_head = 1, shift SSM on K as a W-tap register (default 4; the paper's"
                            + " 64 taps run by FFT), S4D diagonal SSM over K̄ ⊙ V, read out by Q; FFT convolution view == scan recurrence == naive F64"
                            + " recurrence == token-by-token == chunked; O(1) state (W − 1 keys + diagonal state); restarts at packed documents;"
                            + " F64 gradcheck; Llama decoding, generation, 20-step training, CLI; no golden for H3: paper-only (REFERENCES.md)"),
            done("E10", "S4D / S5 diagonal state spaces, parallel scan",
                    "Gu et al. 2022, On the Parameterization and Initialization of Diagonal State Space Models; "
                            + "Smith et al. 2023, Simplified State Space Layers",
                    NN + "mixer.S4d", "--mixer s4d [--mixer-option state=N] [--mixer-option dt_min=Δ]"
                            + " [--mixer-option dt_max=Δ] | --mixer s5 [--mixer-option state=P]", NN + "mixer.S4dTest",
                    "S4D in mixer.S4d, S5 in mixer.S5 (mixer.S5Test); both replace attention in every layer of Llama (models.StateSpaceModelTest, which also trains one from the CLI and"
                            + " generates from its checkpoint); S4D: FFT convolution with the Vandermonde kernel == recurrent scan =="
                            + " chunked; S5: parallel scan == sequential recurrence == chunked; O(1) recurrent-state decoding; restart at"
                            + " packed documents; S5 initialised S4D-Lin, not HiPPO-N (no eigensolver); no golden: paper-only (REFERENCES.md)"),
            done("E11", "LRU (Resurrecting RNNs)", "Orvieto et al. 2023, Resurrecting Recurrent Neural Networks for Long Sequences",
                    NN + "mixer.Lru", "--mixer lru [--mixer-option state=N] [--mixer-option r_min=r] [--mixer-option r_max=r]"
                            + " [--mixer-option max_phase=φ]", NN + "mixer.LruTest",
                    "replaces attention in every layer of Llama or GPT-2 (models.LruModelTest); parallel scan == recurrence == chunked; O(1) recurrent-state"
                            + " decoding; restarts at packed documents; no golden: the exact LRU is paper-only (REFERENCES.md)"),
            done("E12", "RWKV time mix / channel mix", "Peng et al. 2023, RWKV: Reinventing RNNs for the Transformer Era",
                    NN + "mixer.Rwkv", "--mixer rwkv --ffn rwkv", NN + "mixer.RwkvTest",
                    "the RWKV-4 time mix replaces attention in every layer of Llama or GPT-2 (models.RwkvModelTest): parallel softmax form =="
                            + " stable recurrence == chunked; O(1) state; the channel mix (mixer.RwkvChannelMix) replaces the FFN (--ffn rwkv),"
                            + " its token shift decoding from a one-token state in the layer's cache (KvCache.feedForwardState): a whole RWKV-4"
                            + " stack decodes token by token == chunked == full forward (models.RwkvStackModelTest); both restart at packed"
                            + " documents; golden from transformers RwkvSelfAttention/RwkvFeedForward (mixer.RwkvGoldenTest)"),
            done("E13", "SRU / SRU++",
                    "Lei et al. 2018, Simple Recurrent Units for Highly Parallelizable Recurrence; "
                            + "Lei 2021, When Attention Meets Fast Recurrence",
                    NN + "mixer.Sru", "--mixer sru [--mixer-option forget_bias=b] [--mixer-option attention=true] [--mixer-option attention_dim=d]",
                    NN + "mixer.SruTest",
                    "SRU (2018 form, v⊙c peepholes) or SRU++ (attention=true: single-head attention of width d' = C/4, K = W_k Q, V = W_v Q,"
                            + " U = W_o(Q + αA) in place of W x; no layer norm) replaces attention in every layer of Llama (models.SruModelTest):"
                            + " elementwise loop over time == naive loop == token-by-token == chunked; state c (O(1)), plus SRU++'s keys and"
                            + " values (O(t) attention); restarts at packed documents, attention included; no golden: paper-only"),
            done("E14", "QRNN", "Bradbury et al. 2017, Quasi-Recurrent Neural Networks", NN + "mixer.Qrnn",
                    "--mixer qrnn [--mixer-option window=k] [--mixer-option hidden=H]", NN + "mixer.QrnnTest",
                    "replaces attention in every layer of Llama or GPT-2 (models.QrnnModelTest); causal conv + fo-pooling as a parallel scan =="
                            + " naive loop == token-by-token == chunked; O(1) state (c, last k-1 inputs); restarts at packed documents;"
                            + " output projection only when hidden != C; no golden: paper-only"),
            done("E15", "LMU", "Voelker et al. 2019, Legendre Memory Units", NN + "mixer.Lmu",
                    "--mixer lmu [--mixer-option order=d] [--mixer-option theta=θ] [--mixer-option units=U] [--mixer-option feedback=true]",
                    NN + "mixer.LmuTest",
                    "replaces attention in every layer of Llama (models.LmuModelTest); A, B of the paper, ZOH == scipy cont2discrete (fixture"
                            + " nn/tools/golden_e15_lmu.py); default: the memory-only LMU (Chilkuri & Eliasmith 2021), Toeplitz convolution =="
                            + " recurrence == chunked; feedback=true: the 2019 cell with its h/m feedbacks, sequential only; O(1) state decoding;"
                            + " restarts at packed documents"),
            done("E16", "mixture of experts with top-k routing",
                    "Shazeer et al. 2017, Outrageously Large Neural Networks; Fedus et al. 2022, Switch Transformers",
                    NN + "ffn.MixtureOfExperts", "--ffn moe [--ffn-option experts=E] [--ffn-option top_k=k] [--ffn-option capacity_factor=c]"
                            + " [--ffn-option aux_loss=a] [--ffn-option z_loss=z] [--ffn-option renormalize=false]", NN + "ffn.MixtureOfExpertsTest",
                    "replaces the FFN of every layer of Llama or GPT-2 (models.MoeModelTest); SwiGLU experts dispatched by gathered token"
                            + " blocks; load-balancing loss and router z-loss as a Regularizer; capacity drops in position order (causal);"
                            + " golden vs transformers MixtralSparseMoeBlock, load_balancing_loss_func and SwitchTransformersTop1Router"),
            done("E17", "sparse MLP", "Yu et al. 2022, Efficient Language Modeling with Sparse all-MLP", NN + "mixer.SparseMlp",
                    "--mixer smlp [--mixer-option experts=E] [--mixer-option length=n] [--mixer-option hidden=F] with --ffn moe"
                            + " --ffn-option top_k=1 --ffn-option renormalize=false (the paper's top-1 tMoE)",
                    NN + "mixer.SparseMlpTest",
                    "sMoE (gMLP block whose spatial gating unit is E expert units, each fed one chunk F/E of the hidden dimension,"
                            + " deterministic routing: chunk e to expert e) replaces attention and tMoE (E16 top-k MoE, --ffn moe) the FFN"
                            + " in every layer of Llama or GPT-2 (models.SparseMlpModelTest); == naive F64, == causal gMLP at E=1; full"
                            + " forward == token-by-token == chunked decoding from cached LN(Z2) rows (O(t) per token, state <= length rows:"
                            + " each W_e reads every past position); restarts at packed documents; not built: the paper's partial-prediction"
                            + " routing (learned router on the first 20% of tokens, loss on the rest), Base Layers' balanced assignment"
                            + " for tMoE (not causal), dense and sparse blocks mixed in one model; no golden: paper-only"),
            done("E18", "MetaFormer / PoolFormer pooling mixer", "Yu et al. 2022, MetaFormer Is Actually What You Need for Vision",
                    NN + "mixer.Pooling", "--mixer pool [--mixer-option pool_size=k] [--mixer-option causal=false]", NN + "mixer.PoolingTest",
                    "pool(x) - x over a 1-D window cut at the ends (count_include_pad=False); causal (default; window ending"
                            + " at t, O(1) state: the last k-1 inputs) in Llama/GPT-2 or centred (causal=false) in BERT"
                            + " (models.MlpMixersModelTest); documents are cut out of each other's windows; golden: timm"
                            + " metaformer.Pooling on a one-row image; the MetaFormer block itself is the models' pre-norm block"),
            done("E19", "Branchformer (parallel attention and cgMLP branches, learned merge)",
                    "Peng et al. 2022, Branchformer: Parallel MLP-Attention Architectures", NN + "mixer.Branchformer",
                    "--mixer branchformer [--mixer-option heads=H] [--mixer-option hidden=F] [--mixer-option kernel=K]"
                            + " [--mixer-option merge=concat|average] [--mixer-option causal=false (--model bert)]", NN + "mixer.BranchformerTest",
                    "causal form in Llama/GPT-2 (causal attention and causal depthwise conv; decoding from the held inputs,"
                            + " O(t) per token, == full forward), bidirectional form in BERT (centred conv)"
                            + " (models.BranchformerModelTest); MHSA (RoPE in place of the paper's relative PE) ‖ cgMLP (CSGU: LN +"
                            + " depthwise conv), merge concat+linear or average with two learned softmax logits (the paper derives them"
                            + " by attention pooling over the utterance, which a decoder cannot); no dropout; no golden: paper-only"),
            done("E20", "BiGS bidirectional gated SSM", "Wang et al. 2023, Pretraining Without Attention", NN + "mixer.Bigs",
                    "--model bert --mixer bigs [--mixer-option state=N] [--mixer-option hidden=H]", NN + "mixer.BigsTest",
                    "bidirectional only, in BERT (models.BigsModelTest): forward and backward per-channel S4D SSMs as causalConv kernels"
                            + " (the backward one on the flipped sequence), convolution view == complex recurrence; GELU gating as the"
                            + " paper; each packed document / padding run mixed alone; per-channel Δ, A, C (the released code shares"
                            + " them); no golden: paper-only"),
            done("E21", "SGConv structured global convolution",
                    "Li et al. 2023, What Makes Convolutional Models Great on Long Sequence Modeling?", NN + "mixer.SgConv",
                    "--mixer sgconv [--mixer-option length=L] [--mixer-option size=d] [--mixer-option alpha=α]", NN + "mixer.SgConvTest",
                    "replaces attention in every layer of Llama or GPT-2 (models.SgConvModelTest); kernel = concat of linearly upsampled"
                            + " sub-kernels, scale i damped by α^i, normalised by its initial norm; FFT conv == naive loop == token-by-token =="
                            + " chunked; decoding holds the last min(L, t) inputs, O(min(L, t)) per token (no recurrence); restarts at packed"
                            + " documents; causal only (no bidirectional kernel); no golden: paper-only"),
            done("E22", "simple long convolutions (FlashButterfly-style)",
                    "Fu et al. 2023, Simple Hardware-Efficient Long Convolutions for Sequence Modeling", NN + "mixer.LongConv",
                    "--mixer long_conv [--mixer-option length=K] [--mixer-option lambda=λ] [--mixer-option smooth=p]", NN + "mixer.LongConvTest",
                    "replaces attention in every layer of Llama or GPT-2 (models.LongConvModelTest); learned per-tap kernel with the paper's smooth"
                            + " and squash regularisers (fla omits them); FFT conv (tensor FftConv) == naive loop == token-by-token == chunked;"
                            + " decoding holds the last min(K, t) inputs, O(min(K, t)) per token (a learned kernel has no recurrence);"
                            + " restarts at packed documents; golden vs fla LongConvolution (LongConvGoldenTest); no FlashButterfly"),
            done("E23", "TaLK time-aware large-kernel convolutions", "Lioutas & Guo 2020, Time-aware Large Kernel Convolutions",
                    NN + "mixer.Talk", "--mixer talk [--mixer-option heads=H] [--mixer-option max_left=l]", NN + "mixer.TalkTest",
                    "causal form (right offset 0) replaces attention in every layer of Llama or GPT-2 (models.TalkModelTest): per-token"
                            + " per-head predicted left offsets, window mean from prefix sums with the interpolated far end == naive weighted sum =="
                            + " token-by-token == chunked; O(1) decoding from the last ceil(l_max) + 2 prefix sums; restarts at packed documents;"
                            + " no GLU input projection or offset dropout; no golden: paper-only"),
            done("E24", "continuous-kernel convolutions (CKConv, FlexConv, CCNN)",
                    "Romero et al. 2022, CKConv: Continuous Kernel Convolution for Sequential Data; Romero et al. 2022, FlexConv; Knigge et al."
                            + " 2023, Modelling Long Range Dependencies in ND (CCNN)",
                    NN + "mixer.CkConv", "--mixer ckconv [--mixer-option length=L] [--mixer-option hidden=H] [--mixer-option omega=ω]"
                            + " [--mixer-option mask=true|false] [--mixer-option threshold=τ]", NN + "mixer.CkConvTest",
                    "CKConv (SIREN MLP of the relative position) with FlexConv's learnable Gaussian mask and its cropping (the kernel evaluated"
                            + " and applied only where the mask is >= τ: cropped == uncropped within τ's bound, decoding holds only the cropped"
                            + " window), depthwise + pointwise, replaces attention in every layer of Llama or GPT-2 (models.CkConvModelTest): FFT"
                            + " conv == naive loop == token-by-token == chunked; decoding holds the last min(L', t) inputs, O(min(L', t)) per"
                            + " token; restarts at packed documents; the CCNN network (block.Ccnn, block.CcnnTest: residual pre-norm blocks of"
                            + " SepFlexConv, GELU and pointwise layers, LayerNorm for the paper's BatchNorm) == naive, learns a toy sequence"
                            + " classification; no golden: paper-only"),
            done("E25", "recurrent fast weight programmers (DeltaNet recurrence)",
                    "Irie et al. 2021, Going Beyond Linear Transformers with Recurrent Fast Weight Programmers", NN + "mixer.Rfwp",
                    "--mixer rfwp [--mixer-option heads=H]", NN + "mixer.RfwpTest",
                    "the Recurrent Delta Net (q, k, v, β read tanh(y_{t-1}) through per-head R) replaces attention in every layer of Llama"
                            + " (models.RfwpModelTest); only the sequential form exists (y_{t-1} feeds step t): loop == naive == token-by-token"
                            + " == chunked; O(1) state (W, y_{t-1}); restarts at packed documents; delta-rule part golden from fla"
                            + " delta_rule_recurrence (nn/tools/golden_e25_delta_rule.py)"),
            done("E26", "ByteNet dilated convolutions with dynamic unfolding",
                    "Kalchbrenner et al. 2016, Neural Machine Translation in Linear Time", NN + "mixer.ByteNet",
                    "--mixer bytenet [--mixer-option width=k] [--mixer-option hidden=H] [--mixer-option max_dilation=r]"
                            + " [--mixer-option stacks=s]; translation: nn module mixer.ByteNetTranslator", NN + "mixer.ByteNetTest",
                    "the decoder's residual blocks with masked dilated convolutions (dilation doubling 1..16) replace attention in every"
                            + " layer of Llama or GPT-2 (models.ByteNetModelTest): == naive loop == token-by-token == chunked; O(1) decoding"
                            + " from fixed windows of the last (k-1)·r inputs per unit; restarts at packed documents; dynamic unfolding in"
                            + " mixer.ByteNetTranslator (ByteNetTranslatorTest): an encoder of the same blocks with non-masked (centred)"
                            + " dilated convolutions, the decoder stacked on it reading [target embedding; source column t], columns zero"
                            + " past the source length and past the estimated target length a·len(s) + b (a, b in its Config; paper"
                            + " 1.20, 0); forward(source, targetIn) (teacher forced) == start(source).next(tokens) step by step or in"
                            + " chunks; greedy(source, maxLength) unfolds to EOS or the cap, past the estimate if needed; centred conv vs"
                            + " naive F64, gradcheck, a copy task trains and greedy copies; a module API, no CLI translation command;"
                            + " golden: the dilated conv vs torch Conv1d(dilation=r) with left padding (ByteNetGoldenTest), the encoder's"
                            + " vs Conv1d(dilation=r, padding=(k-1)/2·r) (nn/tools/golden_e26_bytenet_encoder_conv.py), the rest paper"
                            + " only"),
            done("E27", "graph convolution and graph transformer layers (GCN, GTN)",
                    "Kipf & Welling 2017, Semi-Supervised Classification with Graph Convolutional Networks; "
                            + "Yun et al. 2019, Graph Transformer Networks", NN + "graph.GcnLayer",
                    "nn modules: new GcnLayer(in, out, bias, dtype, g).forward(x, edgeIndex), GraphTransformerLayer, GraphTransformerNetwork",
                    NN + "graph.GraphLayersTest",
                    "GcnLayer (Kipf & Welling: D̃^-1/2 (A+I) D̃^-1/2 X W + b), GraphTransformerLayer (torch-geometric"
                            + " TransformerConv: per-edge softmax attention over in-neighbours, heads concat or mean, root weight) and"
                            + " GraphTransformerNetwork (GTN: soft edge-type selection, row-normalised meta-path adjacency products, a"
                            + " GCN per channel) as nn modules on (node features, edge indices), dense (N, N) adjacencies; jqwik vs"
                            + " edge-list sums / matrix equations, gradcheck, toy node classification runs lower the loss; golden from"
                            + " torch_geometric GCNConv and TransformerConv (heads 2, concat and mean) (nn/tools/golden_e27_graph.py,"
                            + " GraphGoldenTest): GcnLayer follows the paper's A + I, so a node's own self loop counts twice, where"
                            + " GCNConv's add_remaining_self_loops keeps it as the only one; TransformerConv's gated residual (beta=True) and edge"
                            + " features not implemented; GTN paper only (no reference implementation)"),
            done("E28", "FNO spectral convolution", "Li et al. 2021, Fourier Neural Operator for Parametric Partial Differential Equations",
                    NN + "mixer.SpectralConv", "--model bert --mixer fno [--mixer-option modes=k]", NN + "mixer.SpectralConvTest",
                    "bidirectional only, in BERT (models.MlpMixersModelTest): rFFT over the sequence's own length, complex channel"
                            + " mixing R on the lowest k modes, inverse, plus the pointwise W v + b; the paper's sigma after the sum is left"
                            + " to the block's FFN; each packed document / padding run transformed alone; no golden: paper-only"),
            // F. Memory and recurrence
            todo("F1", "Transformer-XL memory", "Dai et al. 2019, Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context"),
            todo("F2", "Compressive Transformer", "Rae et al. 2020, Compressive Transformers for Long-Range Sequence Modelling"),
            todo("F3", "memory tokens (Memory Transformer, RMT)",
                    "Burtsev et al. 2020, Memory Transformer; Bulatov et al. 2022, Recurrent Memory Transformer"),
            todo("F4", "persistent memory (all-attention)", "Sukhbaatar et al. 2019, Augmenting Self-attention with Persistent Memory"),
            todo("F5", "Block-Recurrent Transformer", "Hutchins et al. 2022, Block-Recurrent Transformers"),
            todo("F6", "Memorizing Transformer (kNN memory)", "Wu et al. 2022, Memorizing Transformers"),
            todo("F7", "kNN-LM", "Khandelwal et al. 2020, Generalization through Memorization: Nearest Neighbor Language Models"),
            todo("F8", "GMAT global memory", "Gupta & Berant 2020, GMAT: Global Memory Augmentation for Transformers"),
            todo("F9", "AutoCompressor summary vectors", "Chevalier et al. 2023, Adapting Language Models to Compress Contexts"),
            todo("F10", "Memformer / LaMemo",
                    "Wu et al. 2022, Memformer: A Memory-Augmented Transformer; "
                            + "Ji et al. 2022, LaMemo: Language Modeling with Look-Ahead Memory"),
            // G. Training and optimization
            partial("G1", "SGD (momentum, Nesterov), Adam, AdamW, LAMB",
                    "Sutskever et al. 2013; Kingma & Ba 2015, Adam; Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization; "
                            + "You et al. 2020, LAMB",
                    NN + "optim.AdamW", "--optimizer sgd|adam|adamw", NN + "optim.OptimizerReferenceTest", "LAMB not started"),
            partial("G2", "Schedule-Free SGD and AdamW", "Defazio et al. 2024, The Road Less Scheduled", NN + "optim.ScheduleFreeAdamW",
                    "--optimizer schedulefree", NN + "optim.OptimizerReferenceTest", "Schedule-Free SGD not started"),
            done("G3", "warmup + cosine, linear, constant, cyclical triangular",
                    "Loshchilov & Hutter 2017, SGDR; "
                            + "Smith 2017, Cyclical Learning Rates for Training Neural Networks", NN + "optim.LrSchedule",
                    "--warmup, --min-lr (warmup + cosine); "
                            + "nn.optim LinearDecay, Constant, CyclicalTriangular", NN + "optim.LrScheduleTest"),
            done("G4", "global-norm clipping",
                    "Pascanu et al. 2013, On the Difficulty of Training Recurrent Neural Networks", NN + "optim.GradClip",
                    "--clip 1.0", NN + "optim.GradClipTest"),
            done("G5", "decoupled weight decay with exclusions", "Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization",
                    NN + "optim.ParamGroups", "--weight-decay 0.1 (biases, norm gains, embeddings exempt)", NN + "optim.ParamGroupsTest"),
            done("G6", "loss-spike rollback with batch skipping", "Chowdhery et al. 2022, PaLM", MODELS + "train.Trainer",
                    "on in tessera train (a loss above 4 × the median of the last 50)", MODELS + "train.TrainerTest", "trainer"),
            done("G7", "gradient accumulation",
                    "Ott et al. 2018, Scaling Neural Machine Translation (delayed updates)", MODELS + "train.Trainer",
                    "--grad-accum N", MODELS + "train.TrainerTest", "trainer"),
            done("G8", "activation checkpointing",
                    "Chen et al. 2016, Training Deep Nets with Sublinear Memory Cost", "dev.tessera.autograd.Checkpoint",
                    "autograd: Checkpoint.run(fn, inputs)", "dev.tessera.autograd.EngineTest", "autograd `Checkpoint`"),
            done("G9", "mixed precision (bf16/fp16, fp32 master weights, loss scaling)",
                    "Micikevicius et al. 2018, Mixed Precision Training", "dev.tessera.autograd.Autocast",
                    "--dtype bf16 or fp16; API: Autocast.enable(DType.BF16), nn.optim.GradScaler", "dev.tessera.nn.AutocastGoldenTest",
                    "16-bit precision emulated by F32 kernels on rounded values"),
            todo("G10", "FP8 (E4M3/E5M2) simulated training with per-tensor dynamic scaling",
                    "Micikevicius et al. 2022, FP8 Formats for Deep Learning"),
            todo("G11", "stochastic weight averaging",
                    "Izmailov et al. 2018, Averaging Weights Leads to Wider Optima and Better Generalization"),
            todo("G12", "sequence-length warmup",
                    "Li et al. 2022, The Stability-Efficiency Dilemma: Investigating Sequence Length Warmup for Training GPT Models"),
            todo("G13", "Random-LTD token dropping",
                    "Yao et al. 2022, Random-LTD: Random and Layerwise Token Dropping for Large-scale Transformers"),
            done("G14", "cross-entropy with ignore index and label smoothing",
                    "Szegedy et al. 2016, Rethinking the Inception Architecture for Computer Vision",
                    NN + "loss.Losses", "nn: Losses.crossEntropy(logits, targets, ignoreIndex, labelSmoothing)", NN + "loss.LossesTest"),
            todo("G15", "contrastive losses (InfoNCE/CLIP, margin contrastive)",
                    "van den Oord et al. 2018, Representation Learning with Contrastive Predictive Coding; Radford et al. 2021, CLIP"),
            todo("G16", "deep supervision / auxiliary heads",
                    "Lee et al. 2015, Deeply-Supervised Nets; "
                            + "Al-Rfou et al. 2019, Character-Level Language Modeling with Deeper Self-Attention"),
            todo("G17", "Amos-style learning-rate and weight-decay scaling",
                    "Tian & Parikh 2022, Amos: An Adam-style Optimizer with Adaptive Weight Decay"),
            done("G18", "Lion", "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms", NN + "optim.Lion", "--optimizer lion",
                    NN + "optim.OptimizerReferenceTest"),
            todo("G19", "permutation language modelling (XLNet two-stream attention)",
                    "Yang et al. 2019, XLNet: Generalized Autoregressive Pretraining"),
            todo("G20", "sliding language modelling (Transcormer)",
                    "Song et al. 2022, Transcormer: Transformer for Sentence Scoring with Sliding Language Modeling"),
            todo("G21", "the Cramming recipe (budgeted single-device training)",
                    "Geiping & Goldstein 2023, Cramming: Training a Language Model on a Single GPU in One Day"),
            todo("G22", "reshardable universal checkpoints",
                    "Lian et al. 2024, Universal Checkpointing: Efficient and Flexible Checkpointing for Large Scale Distributed Training"),
            todo("G23", "diffusion (DDPM, ODE sampler), flow matching, rectified flow",
                    "Ho et al. 2020, DDPM; Lipman et al. 2023, Flow Matching for Generative Modeling; "
                            + "Liu et al. 2023, Flow Straight and Fast (rectified flow)"),
            todo("G24", "scaling-law fitting and compute-optimal sizing",
                    "Kaplan et al. 2020, Scaling Laws for Neural Language Models; "
                            + "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models"),
            // H. Adaptation, quantization and inference
            todo("H1", "LoRA", "Hu et al. 2022, LoRA: Low-Rank Adaptation of Large Language Models"),
            todo("H2", "DyLoRA", "Valipour et al. 2023, DyLoRA: Parameter-Efficient Tuning with Dynamic Search-Free Low-Rank Adaptation"),
            todo("H3", "NF4 quantization with double quantization (QLoRA)",
                    "Dettmers et al. 2023, QLoRA: Efficient Finetuning of Quantized LLMs"),
            todo("H4", "int8 row-wise quantization",
                    "Dettmers et al. 2022, LLM.int8(): 8-bit Matrix Multiplication for Transformers at Scale"),
            todo("H5", "FP8 row-wise inference quantization", "Dubey et al. 2024, The Llama 3 Herd of Models (FP8 inference)"),
            done("H6", "KV cache; greedy, temperature, top-k, top-p, repetition penalty",
                    "Fan et al. 2018 (top-k); Holtzman et al. 2020, The Curious Case of Neural Text Degeneration (top-p); "
                            + "Keskar et al. 2019, CTRL",
                    MODELS + "generate.TextGenerator", "tessera generate --temperature --top-k --top-p --repetition-penalty",
                    MODELS + "generate.SamplerTest", "`tessera generate`"),
            todo("H7", "parallel context windows", "Ratner et al. 2023, Parallel Context Windows for Large Language Models"),
            todo("H8", "NBCE (naive Bayes context extension)", "Su 2023, NBCE: Naive Bayes-based Context Extension (kexue.fm)"),
            todo("H9", "reversible adapters / PEFT without latency",
                    "Liao et al. 2023, Make Pre-trained Model Reversible: From Parameter to Memory Efficient Fine-Tuning"),
            todo("H10", "EL-attention (cache hidden states instead of K/V)",
                    "Yan et al. 2021, EL-Attention: Memory Efficient Lossless Attention for Generation"),
            todo("H11", "structured prompting (grouped in-context examples)",
                    "Hao et al. 2022, Structured Prompting: Scaling In-Context Learning to 1,000 Examples"),
            todo("H12", "vector quantization layer (VQ-VAE) and residual VQ",
                    "van den Oord et al. 2017, Neural Discrete Representation Learning; Zeghidour et al. 2021, SoundStream; "
                            + "Défossez et al. 2022, EnCodec"),
            // I. Whole models
            done("I1", "Llama (RMSNorm eps, SwiGLU rule, RoPE base to 500000, both conventions, GQA, tying)",
                    "Touvron et al. 2023, LLaMA and Llama 2; Dubey et al. 2024, The Llama 3 Herd of Models", MODELS + "Llama",
                    "tessera train --preset tiny|small|gpt2 (architecture llama)", MODELS + "GoldenFixtureTest"),
            done("I2", "GPT-2 (LayerNorm, learned positions, GELU tanh, biases, tied head, 1/√(2L) init)",
                    "Radford et al. 2019, Language Models are Unsupervised Multitask Learners", MODELS + "GPT2",
                    "tessera train --model-config <a GPT-2 config.json>", MODELS + "GoldenFixtureTest"),
            done("I3", "encoder (BERT-style MLM, ELECTRA discriminator)", "Devlin et al. 2019, BERT; Clark et al. 2020, ELECTRA",
                    MODELS + "Bert", "tessera train --model bert (or a BertForMaskedLM config.json)", MODELS + "EncoderGoldenTest",
                    "ELECTRA: discriminator head, loss and joint generator loss as an API (Electra.jointLoss), not a CLI objective; no shared embeddings"),
            todo("I4", "RetNet LM", "Sun et al. 2023, Retentive Network: A Successor to Transformer for LLMs"),
            done("I5", "a Performer LM",
                    "Choromanski et al. 2021, Rethinking Attention with Performers", MODELS + "Llama", "--attention performer",
                    MODELS + "ConfigSwitchTest", "as `--attention performer` on either model"),
            todo("I6", "ViT patch embedding encoder", "Dosovitskiy et al. 2021, An Image is Worth 16x16 Words"),
            todo("I7", "encoder-decoder (seq2seq)", "Vaswani et al. 2017, Attention Is All You Need; Raffel et al. 2020 (T5)"),
            todo("I8", "Optimus-style sentence VAE (latent space LM)",
                    "Li et al. 2020, Optimus: Organizing Sentences via Pre-trained Modeling of a Latent Space"),
            todo("I9", "CLIP dual encoder with contrastive training",
                    "Radford et al. 2021, Learning Transferable Visual Models From Natural Language Supervision"),
            todo("I10", "Whisper-style audio encoder-decoder (log-mel frontend)",
                    "Radford et al. 2023, Robust Speech Recognition via Large-Scale Weak Supervision"),
            // S. Scale-out (tracked separately)
            todo("S1", "data-parallel training with all-reduce on Apache Spark barrier mode",
                    "Apache Spark barrier execution mode (SPARK-24374, Project Hydrogen)"),
            todo("S2", "ZeRO optimizer-state sharding (ZeRO++ quantized communication)",
                    "Rajbhandari et al. 2020, ZeRO; Wang et al. 2023, ZeRO++"),
            todo("S3", "tensor/sequence sharding annotations (GSPMD-style)",
                    "Xu et al. 2021, GSPMD: General and Scalable Parallelization for ML Computation Graphs"),
            todo("S4", "multi-GPU all-reduce (NCCL)",
                    "NVIDIA Collective Communications Library (NCCL); Patarasuk & Yuan 2009, ring all-reduce"));

    private static final Map<String, Component> BY_ID = index(ALL);

    private static Map<String, Component> index(List<Component> all) {
        Map<String, Component> m = new LinkedHashMap<>();
        for (Component c : all) {
            if (m.put(c.id(), c) != null) {
                throw new IllegalStateException("Catalog: " + c.id() + " listed twice");
            }
        }
        return Collections.unmodifiableMap(m);
    }

    /** Every component, in COMPONENTS.md's order. */
    public static List<Component> all() {
        return ALL;
    }

    /** The component with this ID (case-insensitive), or a one-line error. */
    public static Component get(String id) {
        Component c = BY_ID.get(id.strip().toUpperCase(java.util.Locale.ROOT));
        if (c == null) {
            throw new IllegalArgumentException("Catalog: no component '" + id + "' (IDs are " + ranges() + ")");
        }
        return c;
    }

    /** The ID ranges, e.g. "A1–A16, B1–B59, …", from the table. */
    static String ranges() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ALL.size(); i++) {
            String id = ALL.get(i).id();
            boolean first = i == 0 || ALL.get(i - 1).id().charAt(0) != id.charAt(0);
            boolean last = i == ALL.size() - 1 || ALL.get(i + 1).id().charAt(0) != id.charAt(0);
            if (first) {
                sb.append(sb.isEmpty() ? "" : ", ").append(id);
            }
            if (last && !first) {
                sb.append('–').append(id);
            }
        }
        return sb.toString();
    }

    /** The components in {@code state}, in catalog order. */
    public static List<Component> withState(State state) {
        List<Component> out = new ArrayList<>();
        for (Component c : ALL) {
            if (c.state() == state) {
                out.add(c);
            }
        }
        return out;
    }
}
