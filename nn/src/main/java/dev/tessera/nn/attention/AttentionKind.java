package dev.tessera.nn.attention;

import dev.tessera.nn.position.ALiBiAttention;
import dev.tessera.tensor.Generator;

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
    SLIDING_WINDOW,
    /** B3: linear attention with the elu+1 feature map (Katharopoulos et al. 2020), causal by prefix sums. */
    LINEAR,
    /** B3: DeltaNet, the fast-weight delta rule with normalised keys (Schlag et al. 2021; Yang et al. 2024), chunkwise parallel. */
    DELTANET,
    /** B12: AFT-full, the Attention Free Transformer with a learned maxT × maxT position bias (Zhai et al. 2021). */
    AFT,
    /** B9: top-k explicit sparse attention, k keys per query from the config (Zhao et al. 2019). */
    TOPK,
    /** B28: average attention network, a gated FFN of the cumulative average of v per head (Zhang et al. 2018); causal only. */
    AVERAGE,
    /** B13: Random Synthesizer, softmax(R + mask)·V with a learned maxT × maxT matrix R per head (Tay et al. 2021). */
    SYNTHESIZER_RANDOM,
    /** B13: Dense Synthesizer, softmax(W₂ relu(W₁ q_t) + mask)·V per head, q standing for the block input (Tay et al. 2021). */
    SYNTHESIZER_DENSE,
    /** B25: softmax attention times a learned per-head soft span mask, renormalised (Sukhbaatar et al. 2019). */
    ADAPTIVE_SPAN,
    /** B17: Nyström attention, segment-means landmarks and an iterative pseudo-inverse (Xiong et al. 2021); bidirectional only. */
    NYSTROM,
    /** B21: cosFormer, ReLU kernel reweighted by cos(π(i−j)/2M), linear by its cos/sin split (Qin et al. 2022); M = maxPositions. */
    COSFORMER,
    /** B21: Sinkformer, Sinkhorn's alternating row/column normalisations of exp(QKᵀ/√D) (Sander et al. 2022); bidirectional only. */
    SINKFORMER,
    /** B21: SOFT, softmax-free Gaussian-kernel attention by Nyström with a Newton pseudo-inverse (Lu et al. 2021); bidirectional only. */
    SOFT,
    /** B17: Skyformer, Gaussian-kernel attention by Nyström on [Q; K] with sampled landmarks (Chen et al. 2021); bidirectional only. */
    SKYFORMER;

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
            case SLIDING_WINDOW -> new SlidingWindowAttention(c.window());
            case LINEAR -> new LinearAttention();
            case DELTANET -> new DeltaNetAttention(c.numHeads(), c.headDim());
            case AFT -> new AftAttention(c.maxPositions());
            case TOPK -> new TopKAttention(c.topK());
            case AVERAGE -> new AverageAttention(c.numHeads(), c.headDim(), g);
            case SYNTHESIZER_RANDOM -> new SynthesizerAttention(SynthesizerAttention.Variant.RANDOM, c.numHeads(), c.headDim(), c.maxPositions(), g);
            case SYNTHESIZER_DENSE -> new SynthesizerAttention(SynthesizerAttention.Variant.DENSE, c.numHeads(), c.headDim(), c.maxPositions(), g);
            case ADAPTIVE_SPAN -> new AdaptiveSpanAttention(c.numHeads(), c.maxPositions());
            case NYSTROM -> new NystromAttention(NystromAttention.Options.DEFAULT, c.numHeads(), c.dtype(), g);
            case COSFORMER -> new CosFormerAttention(new CosFormerAttention.Options(c.maxPositions()));
            case SINKFORMER -> new SinkformerAttention(SinkformerAttention.Options.DEFAULT);
            case SOFT -> new SoftAttention(SoftAttention.Options.DEFAULT);
            case SKYFORMER -> new SkyformerAttention(SkyformerAttention.Options.DEFAULT, g);
        };
    }

    /** Kinds whose kernel sees the whole sequence (refuses a causal mask): for encoders, not the causal decoders. */
    public boolean bidirectionalOnly() {
        return this == NYSTROM || this == SINKFORMER || this == SOFT || this == SKYFORMER;
    }
}
