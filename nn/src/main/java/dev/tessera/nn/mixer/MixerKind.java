package dev.tessera.nn.mixer;

import dev.tessera.nn.Module;
import dev.tessera.nn.attention.KernelOptions;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The token mixers that may replace a causal decoder's attention, by config name (config.json
 * {@code tessera.mixer} and {@code tessera.mixer_options}, {@code tessera train --mixer lru
 * --mixer-option r_min=0.9}). Each kind's options are one record bound by {@link KernelOptions}.
 */
public enum MixerKind {
    /** E11: Linear Recurrent Unit (Orvieto et al. 2023). */
    LRU("lru", Lru.Options.class, Map.of("state", "0", "r_min", "0.9", "r_max", "0.999", "max_phase", String.valueOf(2 * Math.PI))),
    /** E14: Quasi-Recurrent Neural Network (Bradbury et al. 2017). */
    QRNN("qrnn", Qrnn.Options.class, Map.of("window", "2", "hidden", "0")),
    /** E13: Simple Recurrent Unit (Lei et al. 2018), with the v ⊙ c peephole terms. */
    SRU("sru", Sru.Options.class, Map.of("forget_bias", "0")),
    /** E22: simple long convolutions (Fu et al. 2023), squash and smooth regularised. */
    LONG_CONV("long_conv", LongConv.Options.class, Map.of("length", "1024", "lambda", "0.001", "smooth", "1")),
    /** E9: Hyena operator of order N (Poli et al. 2023), implicit filters, FFT long convolutions. */
    HYENA("hyena", Hyena.Options.class, Map.of("order", "2", "length", "1024", "emb", "3", "hidden", "16", "depth", "2", "activation", "sin",
            "decay", "true")),
    /** E21: SGConv structured global convolution (Li et al. 2022). */
    SGCONV("sgconv", SgConv.Options.class, Map.of("length", "1024", "size", "32", "alpha", "0.5")),
    /** E26: ByteNet decoder stack of masked dilated convolutions (Kalchbrenner et al. 2016). */
    BYTENET("bytenet", ByteNet.Options.class, Map.of("width", "3", "hidden", "0", "max_dilation", "16", "stacks", "1")),
    /** E24: CKConv continuous kernel convolution (Romero et al. 2022), with FlexConv's Gaussian mask by default. */
    CKCONV("ckconv", CkConv.Options.class, Map.of("length", "1024", "hidden", "32", "omega", "30", "mask", "true")),
    /** E23: TaLK time-aware large kernel convolution (Lioutas and Guo 2020), causal. */
    TALK("talk", Talk.Options.class, Map.of("heads", "1", "max_left", "15"));

    /** A chosen kind with its options record (of the kind's {@link #optionsType()}). */
    public record Spec(MixerKind kind, Record options) {
        public Spec {
            if (kind == null || options == null || options.getClass() != kind.optionsType) {
                throw new IllegalArgumentException("mixer " + (kind == null ? "null" : kind.configName) + " takes "
                        + (kind == null ? "?" : kind.optionsType.getSimpleName()) + " options, got " + options);
            }
        }

        /** The kind by name with its options from {@code given} over the defaults. */
        public static Spec of(String name, Map<String, ?> given) {
            MixerKind k = parse(name);
            return new Spec(k, k.options(given));
        }

        /** A mixer for width {@code dim}, initialised from {@code g}. */
        public Module create(int dim, DType dtype, Generator g) {
            return kind.create(dim, options, dtype, g);
        }

        @Override
        public String toString() {
            return kind.configName + " " + KernelOptions.values(options);
        }
    }

    private final String configName;
    private final Class<? extends Record> optionsType;
    private final Map<String, String> defaults;

    MixerKind(String configName, Class<? extends Record> optionsType, Map<String, String> defaults) {
        this.configName = configName;
        this.optionsType = optionsType;
        this.defaults = defaults;
    }

    public String configName() {
        return configName;
    }

    public Class<? extends Record> optionsType() {
        return optionsType;
    }

    /** The kind named {@code name}, or a one-line error listing the valid names. */
    public static MixerKind parse(String name) {
        for (MixerKind k : values()) {
            if (k.configName.equals(name.trim().toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("mixer: unknown kind '" + name + "' (kinds: " + names() + ")");
    }

    /** Every kind's config name, comma separated, for one-line errors. */
    public static String names() {
        return Arrays.stream(values()).map(MixerKind::configName).collect(Collectors.joining(", "));
    }

    /** This kind's options from {@code given} over the defaults; one-line errors name the valid options. */
    public Record options(Map<String, ?> given) {
        return KernelOptions.bind("mixer " + configName, optionsType, defaults, given);
    }

    public Record defaultOptions() {
        return options(Map.of());
    }

    /** A mixer for width {@code dim} with {@code options} (of {@link #optionsType()}), initialised from {@code g}. */
    public Module create(int dim, Record options, DType dtype, Generator g) {
        if (options.getClass() != optionsType) {
            throw new IllegalArgumentException("mixer " + configName + " takes " + optionsType.getSimpleName() + " options, got " + options);
        }
        return switch (this) {
            case LRU -> new Lru(dim, (Lru.Options) options, dtype, g);
            case QRNN -> new Qrnn(dim, (Qrnn.Options) options, dtype, g);
            case SRU -> new Sru(dim, (Sru.Options) options, dtype, g);
            case LONG_CONV -> new LongConv(dim, (LongConv.Options) options, dtype, g);
            case HYENA -> new Hyena(dim, (Hyena.Options) options, dtype, g);
            case SGCONV -> new SgConv(dim, (SgConv.Options) options, dtype, g);
            case BYTENET -> new ByteNet(dim, (ByteNet.Options) options, dtype, g);
            case CKCONV -> new CkConv(dim, (CkConv.Options) options, dtype, g);
            case TALK -> new Talk(dim, (Talk.Options) options, dtype, g);
        };
    }
}
