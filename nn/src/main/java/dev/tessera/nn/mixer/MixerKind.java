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
 * The token mixers that may replace attention (a causal decoder's, or for the bidirectional ones,
 * {@link Spec#causal()} false, the BERT encoder's), by config name (config.json
 * {@code tessera.mixer} and {@code tessera.mixer_options}, {@code tessera train --mixer lru
 * --mixer-option r_min=0.9}). Each kind's options are one record bound by {@link KernelOptions}.
 */
public enum MixerKind {
    /** E11: Linear Recurrent Unit (Orvieto et al. 2023). */
    LRU("lru", Lru.Options.class, Map.of("state", "0", "r_min", "0.9", "r_max", "0.999", "max_phase", String.valueOf(2 * Math.PI))),
    /** E14: Quasi-Recurrent Neural Network (Bradbury et al. 2017). */
    QRNN("qrnn", Qrnn.Options.class, Map.of("window", "2", "hidden", "0")),
    /** E13: Simple Recurrent Unit (Lei et al. 2018), with the v ⊙ c peephole terms; attention=true for SRU++ (Lei 2021). */
    SRU("sru", Sru.Options.class, Map.of("forget_bias", "0", "attention", "false", "attention_dim", "0")),
    /** E7: FNet's Fourier mixing Re(FFT₂(x)) (Lee-Thorp et al. 2022); bidirectional only. */
    FNET("fnet", KernelOptions.None.class, Map.of()),
    /** E2: gMLP's spatial gating unit (Liu et al. 2021); causal=false for the encoder. */
    GMLP("gmlp", Gmlp.Options.class, Map.of("length", "512", "hidden", "0", "causal", "true")),
    /** E3: MLP-Mixer's token-mixing MLP (Tolstikhin et al. 2021); causal=false for the encoder. */
    MLP_MIXER("mlp_mixer", MlpMixer.Options.class, Map.of("length", "512", "hidden", "0", "causal", "true")),
    /** E4: RWKV token shift (mode token) or S²-MLP spatial shift (mode spatial; causal=false for the encoder). */
    SHIFT("shift", Shift.Options.class, Map.of("mode", "token", "causal", "true")),
    /** E18: PoolFormer's pooling, average minus input (Yu et al. 2022); causal=false for the encoder. */
    POOL("pool", Pooling.Options.class, Map.of("pool_size", "3", "causal", "true")),
    /** E8: the Global Filter Network's frequency filter (Rao et al. 2021) or AFNO (Guibas et al. 2022, mode afno); bidirectional only. */
    GLOBAL_FILTER("global_filter", GlobalFilter.Options.class, Map.of("length", "512", "mode", "filter", "blocks", "1", "shrink", "0.01")),
    /** E28: the Fourier Neural Operator's spectral convolution (Li et al. 2021); bidirectional only. */
    FNO("fno", SpectralConv.Options.class, Map.of("modes", "8")),
    /** E5: HyperMixer, token mixing with hypernetwork-generated weights (Mai et al. 2023); causal=false for the encoder. */
    HYPERMIXER("hypermixer", HyperMixer.Options.class, Map.of("length", "512", "hidden", "0", "causal", "true")),
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
    CKCONV("ckconv", CkConv.Options.class, Map.of("length", "1024", "hidden", "32", "omega", "30", "mask", "true", "threshold", "0.1")),
    /** E23: TaLK time-aware large kernel convolution (Lioutas and Guo 2020), causal. */
    TALK("talk", Talk.Options.class, Map.of("heads", "1", "max_left", "15")),
    /** E10: S4D diagonal state space (Gu et al. 2022), convolution view for training, recurrence for decoding. */
    S4D("s4d", S4d.Options.class, Map.of("state", "64", "dt_min", "0.001", "dt_max", "0.1")),
    /** E10: S5 MIMO diagonal state space with a parallel scan (Smith et al. 2023). */
    S5("s5", dev.tessera.nn.mixer.S5.Options.class, Map.of("state", "0", "dt_min", "0.001", "dt_max", "0.1")),
    /** E12: RWKV-4 time mix (Peng et al. 2023): token shift + WKV, parallel softmax form for training, stable recurrence for decoding. */
    RWKV("rwkv", Rwkv.Options.class, Map.of()),
    /** E15: Legendre Memory Unit (Voelker et al. 2019), the memory-only form: Toeplitz convolution for training, recurrence for decoding. */
    LMU("lmu", Lmu.Options.class, Map.of("order", "8", "theta", "16", "units", "4", "feedback", "false")),
    /** E25: Recurrent Delta Net, a recurrent fast weight programmer (Irie et al. 2021); sequential form only. */
    RFWP("rfwp", Rfwp.Options.class, Map.of("heads", "0")),
    /** E20: BiGS bidirectional gated state space model (Wang et al. 2022); bidirectional only. */
    BIGS("bigs", Bigs.Options.class, Map.of("state", "32", "hidden", "0")),
    /** E19: Branchformer, attention ‖ cgMLP branches merged (Peng et al. 2022); causal=false for the encoder. */
    BRANCHFORMER("branchformer", Branchformer.Options.class, Map.of("heads", "4", "hidden", "0", "kernel", "31", "merge", "concat", "causal", "true")),
    /** E9: H3, Hungry Hungry Hippos (Fu et al. 2023): shift SSM on the keys, diagonal SSM over K̄ ⊙ V, read out by Q. */
    H3("h3", dev.tessera.nn.mixer.H3.Options.class, Map.of("state", "16", "shift", "4", "dt_min", "0.001", "dt_max", "0.1")),
    /** E6: DeLighT's attention side (Mehta et al. 2021): DExTra d_m → d_m/2, single-head causal attention, back to d_m; block-wise scaling by n_min/n_max. */
    DELIGHT("delight", DelightAttention.Options.class, Map.of("depth", "4", "width_mult", "2", "max_groups", "4", "n_min", "0", "n_max", "0")),
    /** E17: sparse all-MLP's sMoE (Yu et al. 2022): gMLP gating units as experts over chunks of the hidden dimension, deterministic routing. */
    SMLP("smlp", SparseMlp.Options.class, Map.of("length", "512", "hidden", "0", "experts", "4"));

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

        /** This spec for layer {@code layer} (from 0) of {@code layers}: DeLighT's block-wise scaling gives each its own depth and width. */
        public Spec atLayer(int layer, int layers) {
            return options instanceof DelightAttention.Options d ? new Spec(kind, d.atLayer(layer, layers)) : this;
        }

        /**
         * Whether this mixer reads only the past, so a causal decoder may take it: the kind has a causal
         * form and, for kinds with both ({@link Directional}), the options chose it. Else it is an encoder's.
         */
        public boolean causal() {
            return kind.causal() && !(options instanceof Directional d && !d.causal());
        }

        @Override
        public String toString() {
            return kind.configName + " " + KernelOptions.values(options);
        }
    }

    /** The options of a kind with both a causal and a bidirectional form: option {@code causal=true|false}. */
    public interface Directional {
        boolean causal();
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

    /**
     * Whether the kind has a causal form (like {@code AttentionKind.causal()}): false for the mixers that
     * only mix the whole sequence both ways (FNet), which only the BERT encoder takes.
     */
    public boolean causal() {
        return switch (this) {
            case FNET, GLOBAL_FILTER, FNO, BIGS -> false;
            default -> true;
        };
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
            case FNET -> new FNet(dim);
            case GMLP -> new Gmlp(dim, (Gmlp.Options) options, dtype, g);
            case MLP_MIXER -> new MlpMixer(dim, (MlpMixer.Options) options, dtype, g);
            case SHIFT -> new Shift(dim, (Shift.Options) options, dtype, g);
            case POOL -> new Pooling(dim, (Pooling.Options) options);
            case GLOBAL_FILTER -> new GlobalFilter(dim, (GlobalFilter.Options) options, dtype, g);
            case FNO -> new SpectralConv(dim, (SpectralConv.Options) options, dtype, g);
            case HYPERMIXER -> new HyperMixer(dim, (HyperMixer.Options) options, dtype, g);
            case LONG_CONV -> new LongConv(dim, (LongConv.Options) options, dtype, g);
            case HYENA -> new Hyena(dim, (Hyena.Options) options, dtype, g);
            case SGCONV -> new SgConv(dim, (SgConv.Options) options, dtype, g);
            case BYTENET -> new ByteNet(dim, (ByteNet.Options) options, dtype, g);
            case CKCONV -> new CkConv(dim, (CkConv.Options) options, dtype, g);
            case TALK -> new Talk(dim, (Talk.Options) options, dtype, g);
            case S4D -> new S4d(dim, (S4d.Options) options, dtype, g);
            case S5 -> new dev.tessera.nn.mixer.S5(dim, (dev.tessera.nn.mixer.S5.Options) options, dtype, g);
            case RWKV -> new Rwkv(dim, (Rwkv.Options) options, dtype, g);
            case LMU -> new Lmu(dim, (Lmu.Options) options, dtype, g);
            case RFWP -> new Rfwp(dim, (Rfwp.Options) options, dtype, g);
            case BIGS -> new Bigs(dim, (Bigs.Options) options, dtype, g);
            case BRANCHFORMER -> new Branchformer(dim, (Branchformer.Options) options, dtype, g);
            case H3 -> new dev.tessera.nn.mixer.H3(dim, (dev.tessera.nn.mixer.H3.Options) options, dtype, g);
            case DELIGHT -> new DelightAttention(dim, (DelightAttention.Options) options, dtype, g);
            case SMLP -> new SparseMlp(dim, (SparseMlp.Options) options, dtype, g);
        };
    }
}
