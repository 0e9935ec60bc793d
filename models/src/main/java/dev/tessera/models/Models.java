package dev.tessera.models;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.RealFormerAttention;
import dev.tessera.nn.norm.DeepNorm;
import dev.tessera.nn.norm.ResidualScaling;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;

/** Builds the model a {@link ModelConfig} names, and the few steps every architecture shares. */
public final class Models {
    private Models() {}

    /** A freshly initialised model of {@code config}'s architecture; all randomness comes from {@code g}. */
    public static LanguageModel create(ModelConfig config, Generator g) {
        if (config == null || g == null) {
            throw new IllegalArgumentException("Models.create: config and generator are required");
        }
        return switch (config.architecture()) {
            case LLAMA -> new Llama(config, g);
            case GPT2 -> new GPT2(config, g);
            case BERT -> new Bert(config, g);
        };
    }

    /**
     * Hugging Face's {@code _init_weights}: every matrix (linear weights, embedding tables)
     * N(0, initStd²), biases 0, norm weights 1 (as built). Then either DeepNorm's init (D1: xavier
     * with gain β on v/o projections and the FFN) or, for GPT-2, the 1/√(2L) residual scaling (D7)
     * of the projections that write into the residual stream.
     */
    static void initialise(Module model, ModelConfig c, Generator g) {
        RealFormerAttention.link(model); // B16: each layer's kernel hands its scores to the next (no-op for other kinds)
        for (Map.Entry<String, Variable> e : model.namedParameters().entrySet()) {
            Tensor p = e.getValue().data();
            if (p.rank() == 2 && e.getKey().endsWith("weight") || e.getKey().endsWith(".experts.gate_up_proj")
                    || e.getKey().endsWith(".experts.down_proj")) { // E16's stacked experts, as transformers' Mixtral
                p.copyFromInPlace(Init.normal(g, c.initStd(), p.shape()));
            } else if (e.getKey().endsWith(".bias")) {
                p.fillInPlace(0);
            }
        }
        model.apply(m -> { // issue 17: a mixer whose paper prescribes its own initialisation (gMLP's identity gate) keeps it
            if (m instanceof dev.tessera.nn.mixer.PaperInit p) {
                p.initialiseAsPaper(g);
            }
        });
        if (c.deepNorm()) {
            DeepNorm.initialise(model, DeepNorm.beta(c.layers(), DeepNorm.Arch.DECODER_ONLY), g);
        } else if (c.architecture() == ModelConfig.Architecture.GPT2) {
            ResidualScaling.apply(model, c.initStd(), c.layers(), g);
        }
    }

    /**
     * Checks ids (B, T) and the caches (null, or one per layer holding the same number of
     * positions) and returns that number P, the position of the first new token. Every attention
     * kind decodes from a KV cache: the kernels read the mask's query offset, and Performer's
     * causal prefix sums over the cached keys equal its full causal pass (CachedDecodingTest).
     */
    static int checkInputs(String who, ModelConfig c, Tensor ids, List<KvCache> caches) {
        if (ids == null || ids.rank() != 2 || ids.dtype().isFloating()) {
            throw new IllegalArgumentException(who + ": ids must be an integer (B, T) tensor, got "
                    + (ids == null ? "null" : ids.dtype() + " " + java.util.Arrays.toString(ids.shape())));
        }
        if (caches == null) {
            return 0;
        }
        if (caches.size() != c.layers()) {
            throw new IllegalArgumentException(who + ": " + caches.size() + " caches for " + c.layers() + " layers");
        }
        int full = c.hourglass() == null || c.hourglass().preLayers() > 0 ? 0 : c.layers() - 1; // a full-length layer (B27)
        int past = caches.get(full).length();
        for (int l = 0; l < caches.size(); l++) {
            boolean shortened = c.hourglass() != null && c.hourglass().shortened(l); // B27: ⌈P/k⌉ shortened tokens
            int expected = shortened ? Math.ceilDiv(past, c.hourglass().factor()) : past;
            if (caches.get(l).length() != expected) {
                throw new IllegalArgumentException(who + ": caches hold different numbers of positions (" + expected + " and "
                        + caches.get(l).length() + ")");
            }
        }
        return past;
    }
}
