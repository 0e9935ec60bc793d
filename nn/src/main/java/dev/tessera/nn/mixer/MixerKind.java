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
    /** E10: S4D diagonal state space (Gu et al. 2022), convolution view for training, recurrence for decoding. */
    S4D("s4d", S4d.Options.class, Map.of("state", "64", "dt_min", "0.001", "dt_max", "0.1")),
    /** E10: S5 MIMO diagonal state space with a parallel scan (Smith et al. 2023). */
    S5("s5", dev.tessera.nn.mixer.S5.Options.class, Map.of("state", "0", "dt_min", "0.001", "dt_max", "0.1")),
    /** E12: RWKV-4 time mix (Peng et al. 2023): token shift + WKV, parallel softmax form for training, stable recurrence for decoding. */
    RWKV("rwkv", Rwkv.Options.class, Map.of()),
    /** E15: Legendre Memory Unit (Voelker et al. 2019), the memory-only form: Toeplitz convolution for training, recurrence for decoding. */
    LMU("lmu", Lmu.Options.class, Map.of("order", "8", "theta", "16", "units", "4", "feedback", "false")),
    /** E25: Recurrent Delta Net, a recurrent fast weight programmer (Irie et al. 2021); sequential form only. */
    RFWP("rfwp", Rfwp.Options.class, Map.of("heads", "0"));

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
            case S4D -> new S4d(dim, (S4d.Options) options, dtype, g);
            case S5 -> new dev.tessera.nn.mixer.S5(dim, (dev.tessera.nn.mixer.S5.Options) options, dtype, g);
            case RWKV -> new Rwkv(dim, (Rwkv.Options) options, dtype, g);
            case LMU -> new Lmu(dim, (Lmu.Options) options, dtype, g);
            case RFWP -> new Rfwp(dim, (Rfwp.Options) options, dtype, g);
        };
    }
}
