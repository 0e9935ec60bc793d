package dev.tessera.models.train;

import dev.tessera.autograd.Autocast;
import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.data.BatchSource;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.optim.Adam;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.GradClip;
import dev.tessera.nn.optim.GradScaler;
import dev.tessera.nn.optim.Lion;
import dev.tessera.nn.optim.LrSchedule;
import dev.tessera.nn.optim.Optimizer;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.nn.optim.ParamGroups;
import dev.tessera.nn.optim.SGD;
import dev.tessera.nn.optim.ScheduleFreeAdamW;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: AdamW (or another nn optimizer) with warmup + cosine, gradient accumulation,
 * global-norm clipping, optional z-loss, periodic validation, metrics (CSV, TensorBoard, PNG) and
 * atomic checkpoints. The data order is a pure function of (seed, data index), and every piece of
 * state (weights, optimizer moments and steps, data offset) is checkpointed, so training N steps
 * straight and N/2 + resume + N/2 give bitwise-equal weights.
 *
 * <p>Loss spikes (G6, PaLM): a loss above {@code spikeFactor} × the median of the recent window
 * rolls back to the last good checkpoint and skips the data batches seen since it. A NaN or
 * infinite loss or gradient norm stops the run before anything poisoned is written.
 *
 * <p>Mixed precision (G9, {@code dtype}): bf16 and fp16 run the forward under {@link Autocast}
 * with F32 master weights; fp16 also scales the loss with a {@link GradScaler}, whose inf/NaN
 * gradients skip the optimizer step (the step still counts, its gradient norm is NaN) and whose
 * state is checkpointed.
 */
public final class Trainer {
    /** What the loop reports; the CLI draws a progress bar or prints log lines from it. */
    public interface Listener {
        void onStep(long step, long totalSteps, double loss, double lr, double gradNorm, double tokensPerSecond);

        void onValidation(long step, double valLoss);

        void onEvent(String message);
    }

    /** Thrown when the loss or gradient stops being finite. */
    public static final class DivergedException extends RuntimeException {
        DivergedException(String message) {
            super(message);
        }
    }

    private final LanguageModel model;
    private final BatchSource data;
    private final TrainConfig cfg;
    private final Path runDir;
    private final Listener listener;
    private final Optimizer optimizer;
    private final Checkpoints checkpoints;
    private final Objective objective;
    /** Where the model's parameters are: batches are moved there. */
    private final Device device;
    /** The autocast type of cfg.dtype() (null for fp32) and, for fp16, the loss scaler (G9). */
    private final DType autocast;
    private GradScaler scaler;
    private LrSchedule schedule;
    /** Changes of the run's length on resume, oldest first (see {@link Schedule}). */
    private List<Schedule.Change> stepsChanges = List.of();
    private MetricsLog metrics;
    private TensorBoardWriter tb;
    private long step;
    /** Data batches skipped by spike rollbacks: training step s reads data index s + dataOffset. */
    private long dataOffset;
    private int rollbacks;

    /** A decoder's trainer: next-token cross-entropy (plus the z-loss of {@code cfg}). */
    public Trainer(LanguageModel model, BatchSource data, TrainConfig cfg, Path runDir, Listener listener) {
        this(model, data, cfg, runDir, listener, Objective.nextToken(cfg.zLoss()));
    }

    /** A trainer minimising {@code objective} (e.g. {@link MaskedLm} for an encoder). */
    public Trainer(LanguageModel model, BatchSource data, TrainConfig cfg, Path runDir, Listener listener, Objective objective) {
        this.objective = objective;
        this.model = model;
        this.device = model.module().parameters().getFirst().data().device();
        this.data = data;
        this.cfg = cfg;
        this.runDir = runDir;
        this.listener = listener;
        List<ParamGroup> groups = ParamGroups.decayAndNoDecay(model.module(), cfg.weightDecay());
        this.optimizer = switch (cfg.optimizer()) {
            case "adamw" -> new AdamW(groups, cfg.lr(), 0.9, 0.95, 1e-8, cfg.weightDecay());
            case "adam" -> new Adam(groups, cfg.lr(), 0.9, 0.95, 1e-8, 0);
            case "sgd" -> new SGD(groups, cfg.lr(), 0.9, 0, true, cfg.weightDecay());
            case "lion" -> new Lion(groups, cfg.lr() / 3, 0.9, 0.99, cfg.weightDecay() * 3);
            case "schedulefree" -> new ScheduleFreeAdamW(groups, cfg.lr(), cfg.weightDecay(), cfg.warmup());
            default -> throw new IllegalArgumentException("train: unknown optimizer " + cfg.optimizer());
        };
        this.autocast = TrainConfig.autocastType(cfg.dtype());
        this.scaler = cfg.dtype().equals("fp16") ? new GradScaler() : null;
        this.schedule = new Schedule(cfg, List.of());
        this.checkpoints = new Checkpoints(runDir.resolve("checkpoints"), cfg.keepCheckpoints());
    }

    /** For tests: an fp16 run's loss scaler with other settings (an initial scale that overflows, say). */
    Trainer withLossScaler(GradScaler s) {
        if (scaler == null) {
            throw new IllegalStateException("train: a loss scaler needs --dtype fp16, not " + cfg.dtype());
        }
        scaler = s;
        return this;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public long step() {
        return step;
    }

    /** The steps of the training losses that loss.png plots (tests check it covers the whole run). */
    List<Double> plottedTrainSteps() {
        return metrics == null ? List.of() : List.copyOf(metrics.history().trainSteps());
    }

    /** Trains until {@code cfg.steps()}; with {@code resume}, continues from the newest complete checkpoint. */
    public void run(boolean resume) throws IOException {
        run(resume, cfg.steps());
    }

    /**
     * As {@link #run(boolean)} but stops after step {@code stopAt} (the schedule still spans cfg.steps()).
     *
     * <p>A resume restores the newest complete checkpoint (every file checked; a damaged one stops
     * here, before anything is written) and keeps the run's recorded hyperparameters: a
     * configuration that contradicts them is refused, except for the intervals and for
     * {@code steps}, whose change is recorded and continues the learning rate as {@link Schedule}
     * says. metrics.csv and the TensorBoard events are then cut back to the checkpoint's step, so
     * the run keeps one history, and loss.png is drawn from all of it.
     */
    public void run(boolean resume, long stopAt) throws IOException {
        Files.createDirectories(runDir);
        if (resume) {
            var latest = checkpoints.latest();
            if (latest.isEmpty()) {
                throw new IllegalArgumentException("train: --resume given but " + checkpoints.directory() + " holds no complete checkpoint"
                        + " yet; run again without --resume to start the run over");
            }
            TrainState state = restore(latest.get());
            listener.onEvent("resumed from " + latest.get().path() + " at step " + step);
            continueRecorded(state, latest.get());
        } else if (checkpoints.latest().isPresent()) {
            throw new IllegalArgumentException("train: " + runDir + " already has checkpoints; pass --resume to continue it or choose"
                    + " another --name");
        }
        openLogs();
        try {
            if (step > 0) {
                plot();
            }
            ArrayDeque<Double> window = new ArrayDeque<>();
            while (step < Math.min(stopAt, cfg.steps())) {
                long started = System.nanoTime();
                double lr = schedule.lr(step);
                optimizer.setLr(lr);
                double loss = forwardBackward();
                boolean overflow = scaler != null && scaler.unscale(optimizer); // fp16: an inf/NaN gradient skips this step
                double gradNorm = overflow ? Double.NaN : cfg.clip() > 0 ? GradClip.clipGlobalNorm(optimizer.params(), cfg.clip())
                        : GradClip.totalNorm(optimizer.params());
                if (!Double.isFinite(loss) || !overflow && !Double.isFinite(gradNorm)) {
                    optimizer.zeroGrad();
                    throw diverged(Double.isFinite(loss) ? "gradient norm" : "loss", Double.isFinite(loss) ? gradNorm : loss);
                }
                if (isSpike(window, loss)) {
                    optimizer.zeroGrad();
                    if (scaler != null) {
                        scaler.discardIteration();
                    }
                    rollBack(loss);
                    window.clear();
                    continue;
                }
                if (scaler == null) {
                    optimizer.step();
                } else {
                    scaler.step(optimizer); // skipped after an overflow
                    scaler.update();
                    if (overflow) {
                        listener.onEvent(String.format(Locale.ROOT, "fp16: a gradient overflowed at step %d; step skipped, loss scale now %.0f",
                                step + 1, scaler.scale()));
                    }
                }
                optimizer.zeroGrad();
                window.addLast(loss);
                if (window.size() > cfg.spikeWindow()) {
                    window.removeFirst();
                }
                double seconds = (System.nanoTime() - started) / 1e9;
                double tokensPerSecond = (double) cfg.batchSize() * cfg.gradAccum() * data.sequenceLength() / seconds;
                step++;
                double valLoss = Double.NaN;
                if (step % cfg.evalEvery() == 0 || step == cfg.steps()) {
                    valLoss = validate();
                    listener.onValidation(step, valLoss);
                    tb.scalar("loss/val", step, valLoss);
                }
                listener.onStep(step, cfg.steps(), loss, lr, gradNorm, tokensPerSecond);
                metrics.row(step, loss, valLoss, lr, gradNorm, tokensPerSecond);
                tb.scalar("loss/train", step, loss);
                tb.scalar("lr", step, lr);
                tb.scalar("grad_norm", step, gradNorm);
                tb.scalar("tokens_per_s", step, tokensPerSecond);
                if (!Double.isNaN(valLoss)) {
                    tb.flush();
                    plot();
                }
                if (step % cfg.checkpointEvery() == 0 || step == cfg.steps()) {
                    save();
                }
            }
        } finally {
            closeLogs();
        }
    }

    /**
     * Takes over the recorded configuration of the checkpoint a resume starts from: refuses any
     * other hyperparameter, records a change of {@code steps}.
     */
    private void continueRecorded(TrainState state, Checkpoints.Checkpoint ck) {
        cfg.checkResume(state.config(), step, ck.path().resolve(Checkpoints.STATE));
        stepsChanges = state.stepsChanges();
        if (cfg.steps() != state.config().steps()) {
            double before = new Schedule(state.config(), stepsChanges).lr(step);
            List<Schedule.Change> changed = new ArrayList<>(stepsChanges);
            changed.add(new Schedule.Change(step, state.config().steps(), cfg.steps()));
            stepsChanges = List.copyOf(changed);
            String how = cfg.optimizer().equals("schedulefree") ? String.format(Locale.ROOT, "Schedule-Free: the learning rate stays %.2e", cfg.lr())
                    : before <= cfg.minLr() * (1 + 1e-9) ? String.format(Locale.ROOT, "the learning rate stays at its floor %.2e, where the"
                            + " cosine had brought it; a new run under another --name gets a fresh warmup and decay", cfg.minLr())
                    : String.format(Locale.ROOT, "the learning rate continues from %.2e along a cosine to %.2e at step %d; warmup %d and"
                            + " peak %.2e kept", before, cfg.minLr(), cfg.steps(), cfg.warmup(), cfg.lr());
            listener.onEvent(String.format(Locale.ROOT, "--steps %d changes the run's length from %d to %d steps at step %d: %s", cfg.steps(),
                    state.config().steps(), cfg.steps(), step, how));
        }
        schedule = new Schedule(cfg, stepsChanges);
    }

    private DivergedException diverged(String what, double value) {
        var latest = checkpoints.latest();
        String advice = latest.isEmpty()
                ? "no checkpoint was written yet, so the same command with a lower --lr or a longer --warmup starts the run over"
                : "resuming would repeat it; start a new run with a lower --lr or a longer --warmup under another --name, or --overwrite"
                        + " this one (its newest checkpoint is step " + latest.get().step() + ")";
        return new DivergedException("train: " + what + " became " + value + " at step " + step + "; stopped without writing a checkpoint ("
                + advice + ")");
    }

    /** metrics.csv and a TensorBoard event file, both cut back to the current step. */
    private void openLogs() throws IOException {
        metrics = new MetricsLog(runDir.resolve("metrics.csv"), step);
        tb = new TensorBoardWriter(runDir.resolve("tensorboard"), step);
    }

    private void closeLogs() throws IOException {
        try (MetricsLog m = metrics; TensorBoardWriter t = tb) {
            tb = null;
        }
    }

    /** loss.png from the run's whole history (metrics.csv as kept, then every row since). */
    private void plot() throws IOException {
        MetricsLog.History h = metrics.history();
        if (h.trainSteps().isEmpty()) {
            return;
        }
        LossPlot.write(runDir.resolve("loss.png"), runDir.getFileName().toString(), h.trainSteps(), h.trainLoss(), h.valSteps(), h.valLoss());
    }

    /** One optimizer step's worth of micro-batches; returns the mean loss. Gradients accumulate in the parameters. */
    private double forwardBackward() {
        double total = 0;
        for (int micro = 0; micro < cfg.gradAccum(); micro++) {
            long index = (step + dataOffset) * cfg.gradAccum() + micro;
            PackedDataset.Batch batch = data.batch(index, cfg.batchSize()).to(device);
            Variable loss;
            try (var precision = autocast == null ? null : Autocast.enable(autocast)) {
                loss = objective.loss(model, batch, index);
                Variable regularization = Regularizer.total(model.module()); // the components' own terms (B25's span penalty)
                if (regularization != null) {
                    loss = loss.add(regularization);
                }
            }
            total += loss.item();
            Variable mean = loss.div(cfg.gradAccum());
            (scaler == null ? mean : scaler.scale(mean)).backward();
        }
        return total / cfg.gradAccum();
    }

    /** Mean validation loss of the objective over the first evalBatches validation batches (evaluation weights for Schedule-Free). */
    public double validate() {
        boolean scheduleFree = optimizer instanceof ScheduleFreeAdamW;
        if (scheduleFree) {
            ((ScheduleFreeAdamW) optimizer).eval();
        }
        model.module().eval();
        double total = 0;
        try (var scope = GradMode.noGrad(); var precision = autocast == null ? null : Autocast.enable(autocast)) {
            for (int i = 0; i < cfg.evalBatches(); i++) {
                total += objective.validationLoss(model, data.validationBatch(i, cfg.batchSize()).to(device), i).item();
            }
        } finally {
            model.module().train();
            if (scheduleFree) {
                ((ScheduleFreeAdamW) optimizer).train();
            }
        }
        return total / cfg.evalBatches();
    }

    private boolean isSpike(ArrayDeque<Double> window, double loss) {
        if (cfg.spikeFactor() == 0 || window.size() < cfg.spikeWindow() || step < cfg.warmup()) {
            return false;
        }
        double[] sorted = window.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = sorted[sorted.length / 2];
        return loss > cfg.spikeFactor() * median;
    }

    private void rollBack(double loss) throws IOException {
        var latest = checkpoints.latest();
        if (latest.isEmpty() || rollbacks >= cfg.maxRollbacks()) {
            listener.onEvent(String.format("loss spike at step %d (loss %.4f) but %s; continuing", step, loss,
                    latest.isEmpty() ? "no checkpoint to roll back to" : "the rollback budget is spent"));
            return;
        }
        long spikeStep = step;
        restore(latest.get());
        long skipped = spikeStep - step + 1;
        dataOffset += skipped;
        rollbacks++;
        closeLogs(); // the steps after the checkpoint are trained again: their rows and events go
        openLogs();
        listener.onEvent(String.format("loss spike at step %d (loss %.4f): rolled back to step %d and skipped %d data batches",
                spikeStep, loss, step, skipped));
    }

    private void save() throws IOException {
        TrainState state = new TrainState(step, dataOffset, rollbacks, cfg, stepsChanges, scaler == null ? Map.of() : scaler.stateDict());
        checkpoints.save(step, model.stateDict(), optimizer.stateDict(), state.toJson());
    }

    /**
     * Loads checkpoint {@code ck}: its state.json (strictly), weights and optimizer state. Every
     * problem is one line naming the file; nothing on disk is touched.
     */
    private TrainState restore(Checkpoints.Checkpoint ck) throws IOException {
        TrainState state = TrainState.read(ck);
        load(ck.path().resolve(Checkpoints.MODEL), () -> model.module().loadStateDict(ck.model(), true));
        load(ck.path().resolve(Checkpoints.OPTIMIZER), () -> optimizer.loadStateDict(ck.optimizer()));
        if (scaler != null && !state.gradScaler().isEmpty()) { // an fp16 run's loss scale and growth tracker (G9)
            load(ck.path().resolve(Checkpoints.STATE), () -> scaler.loadStateDict(state.gradScaler()));
        }
        step = state.step();
        dataOffset = state.dataOffset();
        rollbacks = state.rollbacks();
        return state;
    }

    private interface Load {
        void run() throws IOException;
    }

    private static void load(Path file, Load load) throws IOException {
        try {
            load.run();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("train: resume: " + file + ": is missing", e);
        } catch (IOException e) {
            throw new IOException("train: resume: " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("train: resume: " + file + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()), e);
        }
    }
}
