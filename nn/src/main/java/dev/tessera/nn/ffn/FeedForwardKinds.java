package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KernelOptions;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.nn.mixer.RwkvChannelMix;
import dev.tessera.nn.mixer.TokenMixer;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The feed-forward kinds that are their own layer with an options record (config.json {@code
 * tessera.ffn_kind} and {@code tessera.ffn_options}, {@code tessera train --ffn moe --ffn-option
 * experts=8}), beside the dense kinds {@link FeedForward} builds. Options are bound by {@link
 * KernelOptions} as the attention and mixer kinds' are, so names, types and one-line errors come from
 * each kind's record. One place maps a kind to its record, defaults and constructor, so a model
 * builds any of them with {@link #create}.
 */
public final class FeedForwardKinds {
    private FeedForwardKinds() {}

    /** The kind's options record type, or null for a dense kind {@link FeedForward} builds. */
    public static Class<? extends Record> optionsType(FeedForward.Kind kind) {
        return switch (kind) {
            case CONDITIONAL -> ConditionalFeedForward.Options.class;
            case MOE -> MixtureOfExperts.Options.class;
            case PKM -> ProductKeyMemory.Options.class;
            case DELIGHT -> Delight.Options.class;
            case RWKV -> RwkvChannelMix.Options.class;
            default -> null;
        };
    }

    /** Default option values by option name (conditional's depend on the width and are the models' to choose). */
    private static Map<String, String> defaults(FeedForward.Kind kind) {
        return switch (kind) {
            case MOE -> Map.of("experts", "8", "top_k", "2", "hidden", "0", "capacity_factor", "0", "aux_loss", "0.01",
                    "z_loss", "0.001", "renormalize", "true");
            case PKM -> Map.of("keys", "32", "top_k", "8", "heads", "4", "key_dim", "32", "layers", "all");
            case DELIGHT -> Map.of("depth", "4", "width_mult", "2", "max_groups", "4", "reduction", "4", "n_min", "0", "n_max", "0");
            default -> Map.of();
        };
    }

    /** The kind's config name, as config.json and the command line write it. */
    public static String configName(FeedForward.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT);
    }

    /** Every kind's config name, comma separated, for one-line errors. */
    public static String names() {
        return Arrays.stream(FeedForward.Kind.values()).map(FeedForwardKinds::configName).collect(Collectors.joining(", "));
    }

    /** The kind named {@code name}, or a one-line error listing the valid names. */
    public static FeedForward.Kind parse(String name) {
        for (FeedForward.Kind k : FeedForward.Kind.values()) {
            if (configName(k).equals(name.trim().toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("ffn: unknown kind '" + name + "' (kinds: " + names() + ")");
    }

    /** {@code kind}'s options from {@code given} over the defaults; a one-line error names the valid options. */
    public static Record options(FeedForward.Kind kind, Map<String, ?> given) {
        Class<? extends Record> type = optionsType(kind);
        if (type == null) {
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("ffn " + configName(kind) + " takes no options, got " + given.keySet());
            }
            return null;
        }
        return KernelOptions.bind("ffn " + configName(kind), type, defaults(kind), given);
    }

    /** Whether layer {@code layer} (from 0) takes the kind's own layer; the others keep a dense FFN (E1's memory goes in chosen layers). */
    public static boolean inLayer(FeedForward.Kind kind, Record options, int layer) {
        return kind.hasOptions() && (!(options instanceof ProductKeyMemory.Options p) || p.inLayer(layer));
    }

    /** The options layer {@code layer} (from 0) of {@code layers} takes: DeLighT's block-wise scaling gives each its own depth and width. */
    public static Record atLayer(Record options, int layer, int layers) {
        return options instanceof Delight.Options d ? d.atLayer(layer, layers) : options;
    }

    /**
     * A layer of {@code kind} (one with options) for width {@code dim} and FFN width {@code hidden}:
     * the dense kinds' {@code activation} and {@code bias} apply to conditional's branches; MoE experts are SwiGLU without biases.
     */
    public static Layer create(FeedForward.Kind kind, int dim, int hidden, Activation activation, boolean bias, Record options,
            DType dtype, Generator g) {
        Class<? extends Record> type = optionsType(kind);
        if (type == null || options == null || options.getClass() != type) {
            throw new IllegalArgumentException("ffn " + configName(kind) + " takes " + (type == null ? "no" : type.getSimpleName())
                    + " options, got " + options);
        }
        Module m = switch (kind) {
            case CONDITIONAL -> new ConditionalFeedForward(new FeedForward.Config(dim, hidden, FeedForward.Kind.MLP, activation, bias, dtype),
                    (ConditionalFeedForward.Options) options, g);
            case MOE -> new MixtureOfExperts(dim, hidden, (MixtureOfExperts.Options) options, dtype, g);
            case PKM -> new ProductKeyMemory(dim, (ProductKeyMemory.Options) options, dtype, g);
            case DELIGHT -> new Delight(dim, (Delight.Options) options, dtype, g);
            case RWKV -> new RwkvChannelMix(dim, hidden, dtype, g);
            default -> throw new IllegalStateException("ffn " + configName(kind) + " has no layer of its own");
        };
        return (Layer) m;
    }

    /**
     * A block's feed-forward {@code mlp} on x (B, T, C) → (B, T, C). One that reads other tokens (a {@link TokenMixer}: E12's
     * RWKV channel mix, whose token shift reads the previous token) gets the mask, so packed documents restart it, and decodes
     * from its state in the layer's cache ({@link KvCache#feedForwardState}; null {@code cache}: training from the zero state);
     * the others act on each token alone.
     */
    public static Variable forward(Layer mlp, Variable x, AttentionMask mask, KvCache cache) {
        if (!(mlp instanceof TokenMixer stateful)) {
            return mlp.forward(x);
        }
        return stateful.forward(x, mask, cache == null ? null : (MixerState) cache.feedForwardState(MixerState::new));
    }
}
