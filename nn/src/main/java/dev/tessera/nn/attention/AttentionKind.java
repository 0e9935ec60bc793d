package dev.tessera.nn.attention;

import dev.tessera.nn.position.ALiBiAttention;
import dev.tessera.tensor.Generator;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** The attention kernels a model config can switch between (each one file, see its javadoc). */
public enum AttentionKind {
    /** Scaled dot-product softmax attention (Vaswani et al. 2017), with the config's soft cap and dropout. */
    SOFTMAX,
    /** B1: L2-normalised keys with a learned temperature (kexue.fm 9859). */
    KEYNORM,
    /** B2: Performer FAVOR+ with positive orthogonal random features (Choromanski et al. 2021). */
    PERFORMER,
    /** B4: exact attention by online-softmax tiling, memory O(T) (Rabe &amp; Staats 2021; FlashAttention). */
    MEMORY_EFFICIENT,
    /** C4: softmax attention with ALiBi linear biases (Press et al. 2022); use without RoPE. */
    ALIBI,
    /** B14: scaled cosine attention with a learned per-head logit scale (Liu et al. 2022, Swin Transformer V2). */
    COSINE,
    /** B5: sliding-window / local softmax attention, window W from the config (Beltagy et al. 2020; Mistral). */
    SLIDING_WINDOW(SlidingWindowAttention.Options.class),
    /** B3: linear attention with the elu+1 feature map (Katharopoulos et al. 2020), causal by prefix sums. */
    LINEAR,
    /** B3: DeltaNet, the fast-weight delta rule with normalised keys (Schlag et al. 2021; Yang et al. 2024), chunkwise parallel. */
    DELTANET,
    /** B12: AFT-full, the Attention Free Transformer with a learned maxT × maxT position bias (Zhai et al. 2021). */
    AFT,
    /** B9: top-k explicit sparse attention, k keys per query from the config (Zhao et al. 2019). */
    TOPK(TopKAttention.Options.class),
    /** B28: average attention network, a gated FFN of the cumulative average of v per head (Zhang et al. 2018); causal only. */
    AVERAGE,
    /** B13: Random Synthesizer, softmax(R + mask)·V with a learned maxT × maxT matrix R per head (Tay et al. 2021). */
    SYNTHESIZER_RANDOM,
    /** B13: Dense Synthesizer, softmax(W₂ relu(W₁ q_t) + mask)·V per head, q standing for the block input (Tay et al. 2021). */
    SYNTHESIZER_DENSE,
    /** B25: softmax attention times a learned per-head soft span mask, renormalised (Sukhbaatar et al. 2019). */
    ADAPTIVE_SPAN(AdaptiveSpanAttention.Options.class, "ramp", String.valueOf(AdaptiveSpanAttention.RAMP), "span_loss",
            String.valueOf(AdaptiveSpanAttention.SPAN_LOSS)),
    /** B18: clustered attention, one softmax row per K-means cluster of the queries (Vyas et al. 2020); bidirectional only. */
    CLUSTERED(ClusteredAttention.Options.class, "clusters", "16", "iterations", "10"),
    /** B19: Luna, pack into a learned length-l sequence and unpack back (Ma et al. 2021); bidirectional only. */
    LUNA(LunaAttention.Options.class, "pack_length", "16"),
    /** B24: CoLT5 conditional attention, local attention for all plus full attention among router-picked tokens (Ainslie et al. 2023); bidirectional only. */
    CONDITIONAL(ConditionalAttention.Options.class, "window", "8", "routed", "16"),
    /** B15: talking-heads attention, logits and weights mixed across heads by learned H × H maps (Shazeer et al. 2020). */
    TALKING_HEADS,
    /** B16: RealFormer residual attention, each layer's pre-softmax scores added to the next's (He et al. 2021). */
    REALFORMER,
    /** B29: mixture of Gaussian keys, R learned key maps and mixing weights per head (Nguyen et al. 2022, Transformer-MGK). */
    GAUSSIAN_KEYS(GaussianKeysAttention.Options.class, "components", String.valueOf(GaussianKeysAttention.DEFAULT_COMPONENTS)),
    /** B29: normalised attention, softmax replaced by centring and scaling each query's scores (Richter &amp; Wattenhofer 2020). */
    NORMALIZED,
    /** B15: collaborative heads, shared query/key projections re-weighted per head by a learned mixing vector (Cordonnier et al. 2020). */
    COLLABORATIVE,
    /** B11: RetNet retention, (QKᵀ/√D ⊙ γ_h^(n−m)) V with γ_h = 1 − 2^(−5−h) (Sun et al. 2023); parallel form (option chunk=0) or chunkwise (chunk=C), causal only. */
    RETNET(RetentionAttention.Options.class, "chunk", "0"),
    /** B30: GAU's relu²(QKᵀ/maxT + b) V with per-dim scale-offset Q, K (option chunk=0), or FLASH mixed chunks (chunk=C) (Hua et al. 2022). */
    GAU(GauAttention.Options.class, "chunk", "0"),
    /** B10: Transformer-VQ, keys quantized to a learned per-head codebook, causal attention linear in T through per-code sums (Lingle 2023). */
    VQ(VqAttention.Options.class, "codebook_size", String.valueOf(VqAttention.CODEBOOK_SIZE), "block_length",
            String.valueOf(VqAttention.BLOCK_LENGTH), "commitment", String.valueOf(VqAttention.COMMITMENT)),
    /** B6: Sparse Transformer strided pattern, a band of l plus every l-th key (Child et al. 2019). */
    STRIDED(SparseTransformerAttention.StridedOptions.class, "stride", "8"),
    /** B6: Sparse Transformer fixed pattern, the query's block of l plus each block's last c keys (Child et al. 2019). */
    FIXED(SparseTransformerAttention.FixedOptions.class, "stride", "8", "summary", "2"),
    /** B6: GPT-3's alternation, even layers dense and odd layers locally banded (Brown et al. 2020); needs the layer index. */
    ALTERNATING(SparseTransformerAttention.AlternatingOptions.class, "window", "8"),
    /** B7: LongNet dilated attention, segments w and rates r mixed by their softmax denominators, offset per head (Ding et al. 2023). */
    DILATED(DilatedAttention.Options.class, "segments", "4,8,16", "rates", "1,2,4", "head_offsets", "true"),
    /** B8: BlockBERT blockwise attention, head h's block i attends to block π_h(i) (Qiu et al. 2020); bidirectional only. */
    BLOCKWISE(BlockwiseAttention.Options.class, "blocks", "2", "shifts", ""),
    /** B22: XCiT cross-covariance attention over channels, softmax(τ·Q̂ᵀK̂) (El-Nouby et al. 2021); bidirectional only. */
    XCIT,
    /** B26: neighborhood attention, the k nearest keys with the window clamped at the borders, plus a relative position bias (Hassani et al. 2023). */
    NEIGHBORHOOD(NeighborhoodAttention.Options.class, "kernel_size", "7"),
    /** B20: Long-Short Transformer, window keys plus a dynamic low-rank projection with DualLN, segment-wise when causal (Zhu et al. 2021). */
    LONG_SHORT(LongShortAttention.Options.class, "window", "16", "rank", "1", "segment", "8"),
    /** B17: Nyström attention, segment-means landmarks and an iterative pseudo-inverse (Xiong et al. 2021); bidirectional only. */
    NYSTROM(NystromAttention.Options.class, "landmarks", "64", "pinv_iterations", "6", "conv_kernel", "0"),
    /** B21: cosFormer, ReLU kernel reweighted by cos(π(i−j)/2M), linear by its cos/sin split (Qin et al. 2022); M = maxPositions. */
    COSFORMER,
    /** B21: Sinkformer, Sinkhorn's alternating row/column normalisations of exp(QKᵀ/√D) (Sander et al. 2022); bidirectional only. */
    SINKFORMER(SinkformerAttention.Options.class, "iterations", "3"),
    /** B21: SOFT, softmax-free Gaussian-kernel attention by Nyström with a Newton pseudo-inverse (Lu et al. 2021); bidirectional only. */
    SOFT(SoftAttention.Options.class, "landmarks", "49", "newton_iterations", "20"),
    /** B17: Skyformer, Gaussian-kernel attention by Nyström on [Q; K] with sampled landmarks (Chen et al. 2021); bidirectional only. */
    SKYFORMER(SkyformerAttention.Options.class, "landmarks", "64", "pinv_iterations", "6", "ridge", "0.1"),
    /** B23: Perceiver latents, N learned latents read the input, attend among themselves, and are read back (Jaegle et al. 2021); bidirectional only. */
    PERCEIVER(PerceiverAttention.Options.class, "latents", "16"),
    /** B23: Perceiver AR, the last N positions as latents: causal cross-attention to all inputs, then self-attention among the latents only (Hawthorne et al. 2022); decoders. */
    PERCEIVER_AR(PerceiverAttention.ArOptions.class, "latents", "64");

    private final Class<? extends Record> optionsType;
    private final Map<String, String> defaults;

    AttentionKind() {
        this(KernelOptions.None.class);
    }

    /**
     * @param optionsType the kind's options record, validated in its constructor
     * @param defaults option name, value pairs for the options that have a default; the others are required
     */
    AttentionKind(Class<? extends Record> optionsType, String... defaults) {
        this.optionsType = optionsType;
        Map<String, String> d = new LinkedHashMap<>();
        for (int i = 0; i < defaults.length; i += 2) {
            d.put(defaults[i], defaults[i + 1]);
        }
        this.defaults = Map.copyOf(d);
    }

    /**
     * Whether the kind can run under a causal mask (decoders need it); the others are bidirectional
     * only, for encoders.
     */
    public boolean causal() {
        return switch (this) {
            case CLUSTERED, LUNA, CONDITIONAL, BLOCKWISE, XCIT, NYSTROM, SINKFORMER, SOFT, SKYFORMER, PERCEIVER -> false;
            default -> true;
        };
    }

    /** The name a config or the command line uses: {@code sliding_window}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The kind named {@code name} (any case); a one-line error listing the valid names otherwise. */
    public static AttentionKind named(String name) {
        for (AttentionKind k : values()) {
            if (k.name().equalsIgnoreCase(name.trim())) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown attention kind '" + name + "' (valid: "
                + Arrays.stream(values()).map(AttentionKind::configName).collect(Collectors.joining(", ")) + ")");
    }

    public Class<? extends Record> optionsType() {
        return optionsType;
    }

    /** This kind's options from {@code given} (name → value) over its defaults; one-line errors for unknown, missing or bad values. */
    public Record options(Map<String, ?> given) {
        return KernelOptions.bind("attention " + configName(), optionsType, defaults, given);
    }

    /** This kind's options with every default; an error when the kind has a required option. */
    public Record defaultOptions() {
        return options(Map.of());
    }

    /** {@code options} as this kind's record type; a one-line error when they belong to another kind. */
    public <R extends Record> R cast(Record options, Class<R> type) {
        if (!type.isInstance(options) || type != optionsType) {
            throw new IllegalArgumentException("attention " + configName() + ": options " + options + " are not " + type.getSimpleName());
        }
        return type.cast(options);
    }

    /** Random features for Performer: m = max(64, 4·headDim), a common choice near d·log d for small heads. */
    static int performerFeatures(int headDim) {
        return Math.max(64, 4 * headDim);
    }

    public AttentionKernel create(MultiHeadAttention.Config c, Generator g) {
        return switch (this) {
            case SOFTMAX -> new SoftmaxAttention(Double.NaN, c.softCap(), c.dropout(), c.dropout() > 0 ? g : null);
            case KEYNORM -> new KeyNormAttention(false, 1.0, true);
            case PERFORMER -> new PerformerAttention(c.headDim(), performerFeatures(c.headDim()), g);
            case MEMORY_EFFICIENT -> new MemoryEfficientAttention();
            case ALIBI -> new ALiBiAttention(c.numHeads());
            case COSINE -> new CosineAttention(c.numHeads());
            case SLIDING_WINDOW -> new SlidingWindowAttention(cast(c.options(), SlidingWindowAttention.Options.class));
            case LINEAR -> new LinearAttention();
            case DELTANET -> new DeltaNetAttention(c.numHeads(), c.headDim());
            case AFT -> new AftAttention(c.maxPositions());
            case TOPK -> new TopKAttention(cast(c.options(), TopKAttention.Options.class));
            case AVERAGE -> new AverageAttention(c.numHeads(), c.headDim(), g);
            case SYNTHESIZER_RANDOM -> new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, c.numHeads(), c.headDim(), c.maxPositions(), g);
            case SYNTHESIZER_DENSE -> new SynthesizerAttention(SynthesizerAttention.Variant.DENSE, c.numHeads(), c.headDim(), c.maxPositions(), g);
            case ADAPTIVE_SPAN -> new AdaptiveSpanAttention(c.numHeads(), c.maxPositions(), cast(c.options(), AdaptiveSpanAttention.Options.class));
            case CLUSTERED -> new ClusteredAttention(cast(c.options(), ClusteredAttention.Options.class));
            case LUNA -> new LunaAttention(c.numHeads(), c.headDim(), cast(c.options(), LunaAttention.Options.class), g);
            case CONDITIONAL -> new ConditionalAttention(c.numHeads(), c.headDim(), cast(c.options(), ConditionalAttention.Options.class), g);
            case TALKING_HEADS -> new TalkingHeadsAttention(c.numHeads());
            case REALFORMER -> new RealFormerAttention();
            case GAUSSIAN_KEYS -> new GaussianKeysAttention(c.numHeads(), c.headDim(), cast(c.options(), GaussianKeysAttention.Options.class), g);
            case NORMALIZED -> new NormalizedAttention();
            case COLLABORATIVE -> new CollaborativeAttention(c.numHeads(), c.headDim());
            case RETNET -> new RetentionAttention(c.numHeads(), cast(c.options(), RetentionAttention.Options.class));
            case GAU -> new GauAttention(c.numHeads(), c.headDim(), c.maxPositions(), cast(c.options(), GauAttention.Options.class));
            case VQ -> new VqAttention(c.numHeads(), c.headDim(), cast(c.options(), VqAttention.Options.class), g);
            case STRIDED -> new SparseTransformerAttention(cast(c.options(), SparseTransformerAttention.StridedOptions.class));
            case FIXED -> new SparseTransformerAttention(cast(c.options(), SparseTransformerAttention.FixedOptions.class));
            case ALTERNATING -> throw new IllegalArgumentException("AttentionKind: alternating differs per layer; create it with the layer index");
            case DILATED -> new DilatedAttention(cast(c.options(), DilatedAttention.Options.class));
            case BLOCKWISE -> new BlockwiseAttention(cast(c.options(), BlockwiseAttention.Options.class));
            case XCIT -> new XcitAttention(c.numHeads());
            case NEIGHBORHOOD -> new NeighborhoodAttention(cast(c.options(), NeighborhoodAttention.Options.class), c.numHeads(), g);
            case LONG_SHORT -> new LongShortAttention(cast(c.options(), LongShortAttention.Options.class), c.numHeads(), c.headDim(), g);
            case NYSTROM -> new NystromAttention(cast(c.options(), NystromAttention.Options.class), c.numHeads(), c.dtype(), g);
            case COSFORMER -> new CosFormerAttention(new CosFormerAttention.Options(c.maxPositions()));
            case SINKFORMER -> new SinkformerAttention(cast(c.options(), SinkformerAttention.Options.class));
            case SOFT -> new SoftAttention(cast(c.options(), SoftAttention.Options.class));
            case SKYFORMER -> new SkyformerAttention(cast(c.options(), SkyformerAttention.Options.class), g);
            case PERCEIVER -> new PerceiverAttention(c.numHeads(), c.headDim(), cast(c.options(), PerceiverAttention.Options.class), g);
            case PERCEIVER_AR -> new SoftmaxAttention(Double.NaN, c.softCap(), c.dropout(), c.dropout() > 0 ? g : null);
        };
    }

    /**
     * The kernel of layer {@code layer} (0-based) of a stack: the same as {@link #create(MultiHeadAttention.Config, Generator)}
     * for every kind but {@link #ALTERNATING}, whose even layers are dense and odd layers banded.
     */
    public AttentionKernel create(MultiHeadAttention.Config c, int layer, Generator g) {
        return this == ALTERNATING
                ? SparseTransformerAttention.alternating(layer, cast(c.options(), SparseTransformerAttention.AlternatingOptions.class).window(),
                        SOFTMAX.create(c, g))
                : create(c, g);
    }
}
