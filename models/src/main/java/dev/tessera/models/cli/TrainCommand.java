package dev.tessera.models.cli;

import dev.tessera.models.Bert;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.Preset;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.models.tokenizer.TokenizerJson;
import dev.tessera.models.train.Checkpoints;
import dev.tessera.models.train.Objective;
import dev.tessera.models.train.RunDirectory;
import dev.tessera.models.train.RunInfo;
import dev.tessera.models.train.RunLock;
import dev.tessera.models.train.TrainConfig;
import dev.tessera.models.train.TrainState;
import dev.tessera.models.train.Trainer;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KernelOptions;
import dev.tessera.nn.block.Define;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Parallel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code tessera train}: trains a language model from nothing, by default on the JDK's own sources. */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Train a language model (default: the tiny preset on the JDK's java.base sources).")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--preset", description = "tiny, small or gpt2 (default: tiny).")
    String preset = "tiny";

    @Option(names = "--model", description = "llama (the preset's decoder, default) or bert (I3: a BERT encoder of the preset's size,"
            + " trained by masked-LM).")
    String model;

    @Option(names = "--model-config", description = "A config.json (Hugging Face fields, as a run writes it) describing the model, instead of --preset.")
    Path modelConfigFile;

    @Option(names = "--data", description = "A text file, a directory of text files or a zip (default: the JDK's lib/src.zip java.base).")
    Path data;

    @Option(names = "--name", description = "Run name: writes runs/<name>/ (default: the preset).")
    String name;

    @Option(names = "--runs-dir", description = "Where runs are written (default: runs).")
    Path runsDir = Path.of("runs");

    @Option(names = "--resume", description = "Continue the run from its newest complete checkpoint.")
    boolean resume;

    @Option(names = "--overwrite", description = "Delete an existing run directory of the same name first.")
    boolean overwrite;

    @Option(names = "--sample-tokens", description = "Tokens of the sample printed after training, 0 for none (default: 200).")
    int sampleTokens = 200;

    @Option(names = "--steps", description = "Optimizer steps (default: 200, a few minutes on 2 cores for the tiny preset).")
    long steps = 200;

    @Option(names = "--batch-size", description = "Sequences per micro-batch (default: the preset's).")
    Integer batchSize;

    @Option(names = "--grad-accum", description = "Micro-batches per step (default: 1).")
    int gradAccum = 1;

    @Option(names = "--optimizer", description = "adamw, adam, sgd, lion or schedulefree (default: adamw).")
    String optimizer = "adamw";

    @Option(names = "--lr", description = "Peak learning rate (default: 3e-3).")
    double lr = 3e-3;

    @Option(names = "--min-lr", description = "Cosine floor (default: lr/10).")
    Double minLr;

    @Option(names = "--warmup", description = "Warmup steps (default: min(100, steps/10)).")
    Long warmup;

    @Option(names = "--weight-decay", description = "AdamW decoupled weight decay (default: 0.1).")
    double weightDecay = 0.1;

    @Option(names = "--clip", description = "Global gradient-norm clip, 0 for none (default: 1.0).")
    double clip = 1.0;

    @Option(names = "--z-loss", description = "z-loss coefficient (PaLM uses 1e-4; default: 0).")
    double zLoss = 0;

    @Option(names = "--eval-every", description = "Validate every N steps (default: 50).")
    int evalEvery = 50;

    @Option(names = "--eval-batches", description = "Validation batches per evaluation (default: 4).")
    int evalBatches = 4;

    @Option(names = "--checkpoint-every", description = "Checkpoint every N steps (default: 100).")
    int checkpointEvery = 100;

    @Option(names = "--keep", description = "Checkpoints kept (default: 3, at least 2).")
    int keep = 3;

    @Option(names = "--seed", description = "Seed for initialisation and data order (default: 1337).")
    long seed = 1337;

    @Option(names = "--threads", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = "--device", description = "cpu, cuda or sim (the simulated device that tests the device path; default: cpu).")
    String device = "cpu";

    @Option(names = "--dtype", description = "fp32, bf16 (autocast, F32 master weights) or fp16 (autocast and dynamic loss scaling)"
            + " (default: fp32; a resume keeps the run's).")
    String dtype = "fp32";

    @Option(names = "--attention", description = "An attention kind: ${COMPLETION-CANDIDATES} (default: the preset's).",
            completionCandidates = AttentionKinds.class)
    String attention;

    @Option(names = "--attention-option", paramLabel = "NAME=VALUE", description = "An option of the attention kind (repeatable), e.g."
            + " window=64 for sliding_window (each position sees itself and the W - 1 before it) or k=8 for topk; `tessera components`"
            + " names each kind's options.")
    Map<String, String> attentionOptions;

    @Option(names = "--hourglass", paramLabel = "SPEC", description = "B27 Hourglass: pre@1,shortened@k,post@1[/avg|linear[/repeat|linear]],"
            + " e.g. 1@1,2@2,1@1/linear/linear: the middle layers run on a sequence shortened k times (sets the layer count).")
    String hourglass;

    @Option(names = "--mixer", description = "A token mixer in place of attention in every layer (llama, gpt2): lru (E11), qrnn (E14), sru (E13),"
            + " s4d, s5 (E10), rwkv (E12), lmu (E15), rfwp (E25), bytenet (E26), talk (E23); each decodes with an O(1) recurrent state;"
            + " long_conv (E22), hyena (E9), sgconv (E21) and ckconv (E24) decode from their last K inputs. gmlp (E2), mlp_mixer (E3),"
            + " shift (E4), pool (E18) and hypermixer (E5) have a causal form too. In bert: a bidirectional mixer, fnet (E7), global_filter"
            + " (E8), fno (E28), or gmlp / mlp_mixer / shift mode=spatial / pool / hypermixer with causal=false.")
    String mixer;

    @Option(names = "--mixer-option", paramLabel = "NAME=VALUE", description = "An option of the mixer (repeatable), e.g. r_min=0.9"
            + " or state=128 for lru.")
    Map<String, String> mixerOptions;

    @Option(names = "--embedding", description = "The token embedding of llama or gpt2: define (E6: DeFINE's deep factorized"
            + " embedding, a narrow table expanded by a hierarchical group transform; default: the plain table).")
    String embedding;

    @Option(names = "--embedding-option", paramLabel = "NAME=VALUE", description = "An option of --embedding define (repeatable): dim=n"
            + " (table width, 0 for C/4), depth=N, width=k (0 for 2·C), max_groups=g.")
    Map<String, String> embeddingOptions;

    @Option(names = "--ffn", description = "The feed-forward kind of every layer: mlp, glu, reglu, geglu, swiglu, conditional (B24, bert),"
            + " moe (E16: top-k routed SwiGLU experts; llama, gpt2), pkm (E1: product-key memory in the layers of its option layers),"
            + " delight (E6: DeLighT's DExTra + light FFN)"
            + ", rwkv (E12: RWKV-4's channel mix, decoding from a one-token state; with --mixer rwkv a whole RWKV-4 stack)"
            + " (default: the preset's).")
    String ffn;

    @Option(names = "--ffn-option", paramLabel = "NAME=VALUE", description = "An option of the FFN kind (repeatable), e.g. experts=8, top_k=2,"
            + " capacity_factor=1.25 or aux_loss=0.01 for moe, keys=32 or layers=1 for pkm; `tessera components` names each kind's options.")
    Map<String, String> ffnOptions;

    @Option(names = "--cache-dir", description = "Tokenized-corpus cache (default: ~/.cache/tessera/tokens).")
    Path cacheDir;

    @Option(names = "--tokenizer", description = "A Hugging Face tokenizer.json (byte-level BPE) instead of raw bytes; sets the vocabulary size.")
    Path tokenizerJson;

    /** What a run trains: the model, tokenizer, data and training configuration, from the options or from the run's record. */
    private record Setup(ModelConfig model, Tokenizer tokenizer, Path data, TrainConfig cfg) { }

    /**
     * Checks every option and the run directory, loads and checks the data, and only then creates
     * or changes anything; the run is locked from before it is read until training ends.
     */
    @Override
    public Integer call() throws Exception {
        Device onDevice = Device.parse(device);
        if (onDevice != Device.CPU) {
            Dispatch.backend(onDevice); // a missing backend fails here, before anything is read or written
        }
        if (resume && overwrite) {
            throw new IllegalArgumentException("train: --resume and --overwrite contradict each other");
        }
        String runName = RunDirectory.checkName(name != null ? name : preset);
        if (sampleTokens < 0 || (threads != null && threads < 1)) {
            throw new IllegalArgumentException("train: --sample-tokens must be >= 0 and --threads >= 1, got " + sampleTokens + " and " + threads);
        }
        if (threads != null) {
            Parallel.setThreads(threads);
        }
        PrintWriter out = spec.commandLine().getOut();
        Path runDir = runsDir.resolve(runName);
        RunLock lock = null;
        try {
            RunDirectory.State state = RunDirectory.state(runDir);
            if (state == RunDirectory.State.STARTED || state == RunDirectory.State.CHECKPOINTED) {
                lock = RunLock.acquire(runDir, "train");
                state = RunDirectory.state(runDir); // as it stands now that no one else can change it
            }
            checkState(runDir, state);
            Setup setup = resume ? recorded(runDir) : fromOptions();
            TrainConfig cfg = setup.cfg();
            PackedDataset dataset = loadData("train", () -> TrainData.load(setup.data(), cacheDir, setup.tokenizer(),
                    setup.model().contextLength(), cfg.seed(), out));
            checkFits(dataset, setup);
            out.println(dataset.describeSplit());
            if (!resume) {
                if (lock == null) {
                    Files.createDirectories(runDir);
                    lock = RunLock.acquire(runDir, "train");
                    if (RunDirectory.state(runDir) != RunDirectory.State.EMPTY) {
                        throw new IllegalStateException("train: " + runDir + " was filled by someone else while the data loaded; try again");
                    }
                } else {
                    if (state == RunDirectory.State.STARTED && !overwrite) {
                        out.println("note: " + runDir + " has no checkpoint yet; starting it over");
                    }
                    RunDirectory.clear(runDir);
                }
                create(runDir, setup, dataset);
            }
            LanguageModel model = Models.create(setup.model(), new Generator(cfg.seed()));
            model.module().to(onDevice);
            out.printf(Locale.ROOT, "model %s: %,d parameters; %d steps of %d x %d tokens; run dir %s%n", runName,
                    model.module().parameterCount(), cfg.steps(), cfg.batchSize() * cfg.gradAccum(), setup.model().contextLength(), runDir);
            out.flush();
            try (TrainProgress progress = TrainProgress.create(cfg.steps(), out)) {
                Trainer trainer = new Trainer(model, dataset, cfg, runDir, progress,
                        Objective.of(setup.model(), setup.tokenizer().endOfDocument(), cfg.seed(), cfg.zLoss()));
                trainer.run(resume);
            } catch (Trainer.DivergedException e) {
                spec.commandLine().getErr().println("tessera: " + e.getMessage());
                return 3;
            }
            out.printf("done: weights, metrics.csv, loss.png and TensorBoard events in %s%n", runDir);
            if (sampleTokens > 0 && isBert(setup.model())) {
                out.println("sample: none (an encoder does not generate text)");
            } else if (sampleTokens > 0) {
                out.println("sample:");
                model.module().to(Device.CPU); // sampling and the KV cache are host code
                GenerateCommand.stream(model, setup.tokenizer(), "public ", sampleTokens, new dev.tessera.models.generate.Sampler(0.8, 40, 0.95, 1.1),
                        cfg.seed(), out);
            }
            return 0;
        } finally {
            if (lock != null) {
                lock.close();
            }
        }
    }

    /** What the directory may be used for: only Tessera runs are reused or replaced, only checkpointed ones resumed. */
    private void checkState(Path runDir, RunDirectory.State state) {
        switch (state) {
            case ABSENT, EMPTY -> {
                if (resume) {
                    throw new IllegalArgumentException("train: --resume: there is no run " + runDir + " to resume");
                }
            }
            case FOREIGN -> throw new IllegalArgumentException("train: " + (resume ? "--resume: " : "") + runDir + " exists and is not a Tessera"
                    + " run (no " + RunInfo.FILE + "); it is left alone" + (resume ? " (a run made before run.json existed cannot be resumed)"
                    : ": choose another --name or --runs-dir"));
            case STARTED -> {
                if (resume) {
                    throw new IllegalArgumentException("train: --resume: " + runDir + " has no complete checkpoint yet; run the same command"
                            + " without --resume to start it over");
                }
            }
            case CHECKPOINTED -> {
                if (!resume && !overwrite) {
                    throw new IllegalArgumentException("train: run directory " + runDir + " already exists; pass --resume to continue it or"
                            + " --overwrite to replace it");
                }
            }
        }
    }

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /** A new run: everything from the options. */
    private Setup fromOptions() {
        Preset p = Preset.of(preset);
        ModelConfig modelConfig = modelConfigFile == null ? presetModel(p) : readModelConfig(modelConfigFile);
        if (model != null && modelConfigFile != null && isBert(modelConfig) != isBert(presetModel(p))) {
            throw new IllegalArgumentException("train: --model " + model + " contradicts --model-config " + modelConfigFile + " (architecture "
                    + modelConfig.architecture().name().toLowerCase(Locale.ROOT) + ")");
        }
        if (attention != null || attentionOptions != null) {
            AttentionKind kind = attention != null ? parseKind(attention) : modelConfig.attentionKind();
            Map<String, Object> values = new LinkedHashMap<>();
            if (kind == modelConfig.attentionKind()) {
                values.putAll(KernelOptions.values(modelConfig.attentionOptions())); // what the model config set, unless overridden
            }
            var builder = modelConfig.toBuilder().attentionKind(kind).attentionOptions(attentionOptions(kind, values));
            if (kind == AttentionKind.ALIBI) {
                builder.positional(ModelConfig.Positional.NONE); // ALiBi replaces positional encodings
            }
            modelConfig = builder.build();
        }
        if (hourglass != null) {
            Hourglass.Options h = hourglassOption();
            modelConfig = modelConfig.toBuilder().layers(h.layers()).hourglass(h).build();
        }
        if (mixer != null || mixerOptions != null) {
            modelConfig = modelConfig.toBuilder().mixer(mixerOption(modelConfig.mixer())).build();
        }
        if (ffn != null || ffnOptions != null) {
            modelConfig = ffnOption(modelConfig);
        }
        if (embedding != null || embeddingOptions != null) {
            modelConfig = modelConfig.toBuilder().embedding(embeddingOption(modelConfig.embedding())).build();
        }
        int batch = batchSize != null ? batchSize : p.batchSize();
        TrainConfig cfg = new TrainConfig(steps, batch, gradAccum, optimizer, lr, minLr != null ? minLr : lr / 10,
                warmup != null ? warmup : Math.min(100, steps / 10), weightDecay, clip, zLoss, evalEvery, evalBatches, checkpointEvery, keep,
                seed, 4.0, 50, 3).withDtype(dtype);
        cfg = zLoss == 0 && modelConfig.zLoss() > 0 ? cfg.withZLoss(modelConfig.zLoss()) : cfg;
        Tokenizer tokenizer = tokenizerJson == null ? new ByteTokenizer() : TokenizerJson.load(tokenizerJson);
        int vocab = tokenizer.vocabSize() + (isBert(modelConfig) ? 1 : 0); // an encoder's [MASK] follows the tokenizer's ids
        if (vocab != modelConfig.vocabSize()) {
            modelConfig = modelConfig.toBuilder().vocabSize(vocab).build();
        }
        if (isBert(modelConfig)) {
            Bert.checkAttention(modelConfig); // a causal-only kind is one line here, not an error mid-training
        }
        return new Setup(modelConfig, tokenizer, data, cfg);
    }

    /**
     * A resume: the model from the run's config.json, data and tokenizer from its run.json, the
     * training configuration from its newest checkpoint; an option may only repeat what they say,
     * except the intervals and --steps (see {@link dev.tessera.models.train.Schedule}).
     */
    private Setup recorded(Path runDir) throws IOException {
        RunInfo info;
        try {
            info = RunInfo.read(runDir);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: " + e.getMessage(), e);
        }
        ModelConfig saved = RunDirectory.modelConfig(runDir, "train");
        Path configFile = runDir.resolve(RunDirectory.CONFIG);
        if (given("--attention") && parseKind(attention) != saved.attentionKind()) {
            throw contradiction("--attention " + attention, configFile, saved.attentionKind().name().toLowerCase(Locale.ROOT));
        }
        if (given("--attention-option")) {
            Record asked = attentionOptions(saved.attentionKind(), KernelOptions.values(saved.attentionOptions()));
            if (!asked.equals(saved.attentionOptions())) {
                throw contradiction("--attention-option " + attentionOptions, configFile, saved.attentionKind().configName() + " "
                        + KernelOptions.values(saved.attentionOptions()));
            }
        }
        if (given("--hourglass") && !hourglassOption().equals(saved.hourglass())) {
            throw contradiction("--hourglass " + hourglass, configFile, saved.hourglass() == null ? "no hourglass" : "hourglass "
                    + saved.hourglass());
        }
        if ((given("--mixer") || given("--mixer-option")) && !mixerOption(saved.mixer()).equals(saved.mixer())) {
            throw contradiction("--mixer " + (mixer == null ? "" : mixer + " ") + (mixerOptions == null ? "" : mixerOptions), configFile,
                    saved.mixer() == null ? "no mixer" : "mixer " + saved.mixer());
        }
        if ((given("--ffn") || given("--ffn-option")) && !ffnOption(saved).equals(saved)) {
            throw contradiction("--ffn " + (ffn == null ? "" : ffn + " ") + (ffnOptions == null ? "" : ffnOptions), configFile, "ffn "
                    + saved.ffnKind().name().toLowerCase(Locale.ROOT) + (saved.ffnOptions() == null ? "" : " " + KernelOptions.values(saved.ffnOptions())));
        }
        if ((given("--embedding") || given("--embedding-option")) && !embeddingOption(saved.embedding()).equals(saved.embedding())) {
            throw contradiction("--embedding " + (embedding == null ? "" : embedding + " ") + (embeddingOptions == null ? "" : embeddingOptions),
                    configFile, saved.embedding() == null ? "the token table" : "embedding " + Define.NAME + " "
                    + KernelOptions.values(saved.embedding()));
        }
        if (given("--model") && isBert(presetModel(Preset.TINY)) != isBert(saved)) {
            throw contradiction("--model " + model, configFile, saved.architecture().name().toLowerCase(Locale.ROOT));
        }
        if (given("--preset") || given("--model-config")) {
            ModelConfig base = given("--model-config") ? readModelConfig(modelConfigFile) : presetModel(Preset.of(preset));
            ModelConfig aligned = base.toBuilder().attentionKind(saved.attentionKind()).attentionOptions(saved.attentionOptions())
                    .positional(saved.positional())
                    .layers(saved.hourglass() != null ? saved.layers() : base.layers()).hourglass(saved.hourglass()).mixer(saved.mixer()).embedding(saved.embedding())
                    .ffnKind(saved.ffnKind()).ffnOptions(saved.ffnOptions())
                    .vocabSize(saved.vocabSize()).build();
            if (!aligned.equals(saved)) {
                throw contradiction(given("--model-config") ? "--model-config " + modelConfigFile : "--preset " + preset, configFile,
                        "another model");
            }
        }
        Path runTokenizer = runDir.resolve(RunDirectory.TOKENIZER);
        if (given("--tokenizer") && (info.tokenizer().equals("bytes") || Files.mismatch(tokenizerJson, runTokenizer) != -1)) {
            throw contradiction("--tokenizer " + tokenizerJson, runDir.resolve(RunInfo.FILE), info.tokenizer().equals("bytes") ? "bytes"
                    : "another tokenizer.json");
        }
        if (given("--data") && !data.toAbsolutePath().normalize().toString().equals(info.data())) {
            throw contradiction("--data " + data, runDir.resolve(RunInfo.FILE), info.data() == null ? "the JDK's java.base sources" : info.data());
        }
        Tokenizer tokenizer = info.tokenizer().equals("bytes") ? new ByteTokenizer() : TokenizerJson.load(runTokenizer);
        var latest = new Checkpoints(runDir.resolve("checkpoints"), 2).latest().orElseThrow();
        TrainState state = TrainState.read(latest);
        TrainConfig r = state.config();
        TrainConfig cfg = new TrainConfig(given("--steps") ? steps : r.steps(), given("--batch-size") ? batchSize : r.batchSize(),
                given("--grad-accum") ? gradAccum : r.gradAccum(), given("--optimizer") ? optimizer : r.optimizer(), given("--lr") ? lr : r.lr(),
                given("--min-lr") ? minLr : r.minLr(), given("--warmup") ? warmup : r.warmup(),
                given("--weight-decay") ? weightDecay : r.weightDecay(), given("--clip") ? clip : r.clip(),
                given("--z-loss") ? zLoss : r.zLoss(), given("--eval-every") ? evalEvery : r.evalEvery(),
                given("--eval-batches") ? evalBatches : r.evalBatches(), given("--checkpoint-every") ? checkpointEvery : r.checkpointEvery(),
                given("--keep") ? keep : r.keepCheckpoints(), given("--seed") ? seed : r.seed(), r.spikeFactor(), r.spikeWindow(),
                r.maxRollbacks()).withDtype(given("--dtype") ? dtype : r.dtype());
        cfg.checkResume(r, state.step(), latest.path().resolve(Checkpoints.STATE));
        return new Setup(saved, tokenizer, info.dataPath(), cfg);
    }

    /**
     * The preset's model: its own decoder, or with {@code --model bert} a BERT encoder of the same
     * size (layers, width, heads, FFN width, context), so a decoder and an encoder run compare like for like.
     */
    private ModelConfig presetModel(Preset p) {
        ModelConfig c = p.config();
        if (model == null || model.equalsIgnoreCase("llama")) {
            return c;
        }
        if (!model.equalsIgnoreCase("bert")) {
            throw new IllegalArgumentException("train: unknown --model '" + model + "' (llama, bert)");
        }
        return ModelConfig.bert(c.vocabSize(), c.contextLength(), c.layers(), c.dim(), c.heads(), c.ffnHidden());
    }

    private static boolean isBert(ModelConfig c) {
        return c.architecture() == ModelConfig.Architecture.BERT;
    }

    private static IllegalArgumentException contradiction(String option, Path file, String recorded) {
        return new IllegalArgumentException("train: --resume: " + option + " contradicts the run's " + file + " (" + recorded + "); a resume"
                + " rebuilds the run as it was created: drop the option");
    }

    private static ModelConfig readModelConfig(Path file) {
        try {
            return ModelConfig.fromJson(Files.readString(file));
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            throw new IllegalArgumentException("train: --model-config " + file + ": " + m.lines().findFirst().orElse("").strip(), e);
        }
    }

    /** Loads the data, naming {@code command} in a problem with it (too little text, a missing file …). */
    static PackedDataset loadData(String command, java.util.function.Supplier<PackedDataset> load) {
        try {
            return load.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(command + ": " + e.getMessage(), e);
        } catch (java.io.UncheckedIOException e) {
            throw new java.io.UncheckedIOException(command + ": " + e.getMessage(), e.getCause());
        }
    }

    /** Refuses a batch the data or the heap cannot hold, before anything is created. */
    private static void checkFits(PackedDataset dataset, Setup setup) {
        int b = setup.cfg().batchSize();
        if (b > dataset.sequencesPerEpoch()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "train: --batch-size %d is more than the %,d training sequences of"
                    + " %d tokens in the data; use at most %,d (or more data)", b, dataset.sequencesPerEpoch(), dataset.sequenceLength() + 1,
                    dataset.sequencesPerEpoch()));
        }
        long logits = (long) b * setup.model().contextLength() * setup.model().vocabSize() * 12L; // logits, probabilities, gradient (F32)
        long heap = Runtime.getRuntime().maxMemory();
        if (logits > heap) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "train: --batch-size %d needs about %.1f GiB for the logits alone"
                    + " (batch x context x vocab x 12 bytes), more than the %.1f GiB heap; use a smaller --batch-size and --grad-accum", b,
                    logits / 1073741824.0, heap / 1073741824.0));
        }
    }

    /** Writes the marker and record (first), the model's config.json and the tokenizer. */
    private void create(Path runDir, Setup setup, PackedDataset dataset) throws IOException {
        new RunInfo(data == null ? null : data.toAbsolutePath().normalize().toString(), dataset.corpus().numTokens(),
                tokenizerJson == null ? "bytes" : RunDirectory.TOKENIZER, setup.cfg().seed(), setup.model().contextLength(),
                dataset.config().validationFraction(), dataset.config().splitSeed(), dataset.split().name().toLowerCase(Locale.ROOT))
                .write(runDir);
        Files.writeString(runDir.resolve(RunDirectory.CONFIG), setup.model().toJson());
        if (tokenizerJson != null) { // generate finds the tokenizer beside the run's config
            Files.copy(tokenizerJson, runDir.resolve(RunDirectory.TOKENIZER), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static AttentionKind parseKind(String name) {
        try {
            return AttentionKind.named(name.replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: unknown --attention '" + name + "' (" + String.join(", ", new AttentionKinds()) + ")");
        }
    }

    /** The valid --attention names, from {@link AttentionKind#values()} so a new kind is listed without editing here. */
    static final class AttentionKinds implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return java.util.Arrays.stream(AttentionKind.values()).map(k -> k.name().toLowerCase(Locale.ROOT)).iterator();
        }
    }

    /** The --hourglass split; a one-line error for a bad spec. */
    private Hourglass.Options hourglassOption() {
        try {
            return Hourglass.Options.parse(hourglass);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: --hourglass: " + e.getMessage(), e);
        }
    }

    /** The --mixer kind (else {@code base}'s) with the --mixer-option values over {@code base}'s when the kind is the same; one-line errors. */
    private MixerKind.Spec mixerOption(MixerKind.Spec base) {
        try {
            if (mixer == null && base == null) {
                throw new IllegalArgumentException("--mixer-option needs --mixer (kinds: " + MixerKind.names() + ")");
            }
            MixerKind kind = mixer != null ? MixerKind.parse(mixer) : base.kind();
            Map<String, Object> values = new LinkedHashMap<>();
            if (base != null && base.kind() == kind) {
                values.putAll(KernelOptions.values(base.options()));
            }
            if (mixerOptions != null) {
                values.putAll(mixerOptions);
            }
            return MixerKind.Spec.of(kind.configName(), values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: " + e.getMessage(), e);
        }
    }

    /** E6: --embedding define with the --embedding-option values over {@code base}'s (when it is DeFINE already); one-line errors. */
    private Define.Options embeddingOption(Define.Options base) {
        try {
            if (embedding != null && !embedding.equals(Define.NAME)) {
                throw new IllegalArgumentException("--embedding: unknown kind '" + embedding + "' (kinds: " + Define.NAME + ")");
            }
            if (embedding == null && base == null) {
                throw new IllegalArgumentException("--embedding-option needs --embedding (kinds: " + Define.NAME + ")");
            }
            Map<String, Object> values = new LinkedHashMap<>();
            if (base != null) {
                values.putAll(KernelOptions.values(base));
            }
            if (embeddingOptions != null) {
                values.putAll(embeddingOptions);
            }
            return Define.options(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: " + e.getMessage(), e);
        }
    }

    /**
     * {@code base} with the --ffn kind (else its own) and the --ffn-option values over its options when the kind is the same
     * (over the defaults otherwise); one-line errors name the valid kinds and options.
     */
    private ModelConfig ffnOption(ModelConfig base) {
        try {
            FeedForward.Kind kind = ffn != null ? FeedForwardKinds.parse(ffn) : base.ffnKind();
            Map<String, Object> values = new LinkedHashMap<>();
            if (kind == base.ffnKind() && base.ffnOptions() != null) {
                values.putAll(KernelOptions.values(base.ffnOptions()));
            } else if (kind.routed()) {
                values.putAll(KernelOptions.values(ModelConfig.defaultFfnOptions(base.ffnHidden())));
            }
            if (ffnOptions != null) {
                values.putAll(ffnOptions);
            }
            return base.toBuilder().ffnKind(kind).ffnOptions(FeedForwardKinds.options(kind, values)).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: " + e.getMessage(), e);
        }
    }

    /** {@code kind}'s options: the --attention-option values over {@code base} (name → value); a one-line error naming the valid ones. */
    private Record attentionOptions(AttentionKind kind, Map<String, Object> base) {
        Map<String, Object> values = new LinkedHashMap<>(base);
        if (attentionOptions != null) {
            values.putAll(attentionOptions);
        }
        try {
            return kind.options(values);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train: --attention-option: " + e.getMessage(), e);
        }
    }
}
