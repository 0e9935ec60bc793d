package dev.tessera.models;

import java.util.Arrays;
import java.util.Locale;

/**
 * The presets of {@code shared/ref/torch_llama_step.py}, number for number, so the project's
 * benchmark and the PyTorch reference time the same model: a Llama-style decoder with RMSNorm
 * (ε = 1e-5) pre-norm, interleaved-pair RoPE (θ = 10000), SwiGLU of width FF, no biases, an
 * untied head and softmax attention. The gpt2 preset is that recipe at GPT-2 small's size (not
 * the GPT-2 architecture; {@link ModelConfig#openaiGpt2()} is that). B is the trainer's batch size.
 *
 * <pre>
 *   preset  V      T     B  L   D    H   KV  FF
 *   tiny    256    256   8  4   256  4   4   768    3,541,248 parameters
 *   small   256    512   8  6   384  6   6   1024
 *   gpt2    50304  1024  8  12  768  12  12  2048   162,220,800 parameters
 * </pre>
 */
public enum Preset {
    TINY(256, 256, 8, 4, 256, 4, 4, 768),
    SMALL(256, 512, 8, 6, 384, 6, 6, 1024),
    GPT2(50304, 1024, 8, 12, 768, 12, 12, 2048);

    private final int vocab;
    private final int context;
    private final int batch;
    private final int layers;
    private final int dim;
    private final int heads;
    private final int kvHeads;
    private final int ffn;

    Preset(int vocab, int context, int batch, int layers, int dim, int heads, int kvHeads, int ffn) {
        this.vocab = vocab;
        this.context = context;
        this.batch = batch;
        this.layers = layers;
        this.dim = dim;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.ffn = ffn;
    }

    /** The model: the script's architecture knobs (interleaved RoPE, ε = 1e-5, untied, no bias). */
    public ModelConfig config() {
        return ModelConfig.llama(vocab, context, layers, dim, heads, kvHeads, ffn).toBuilder()
                .positional(ModelConfig.Positional.ROPE_INTERLEAVED).build();
    }

    /** B, the batch size the reference script trains with. */
    public int batchSize() {
        return batch;
    }

    /** T, the sequence length the reference script trains with (the context length). */
    public int sequenceLength() {
        return context;
    }

    /** The preset named {@code name} (case-insensitive), or a one-line error listing the presets. */
    public static Preset of(String name) {
        for (Preset p : values()) {
            if (p.name().equalsIgnoreCase(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown preset '" + name + "'; supported: "
                + Arrays.stream(values()).map(p -> p.name().toLowerCase(Locale.ROOT)).toList());
    }
}
