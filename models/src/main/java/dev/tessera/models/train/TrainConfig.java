package dev.tessera.models.train;

/**
 * Everything the training loop needs besides the model and data, validated here with one-line
 * errors. Learning rate: linear warmup to {@code lr}, cosine to {@code minLr} at {@code steps}.
 *
 * @param gradAccum micro-batches per optimizer step (their gradients sum; the loss is averaged)
 * @param spikeFactor a loss above spikeFactor × the median of the last {@code spikeWindow} losses
 *     is a spike (PaLM's rollback, G6); 0 disables the check
 * @param dtype the compute precision (G9): fp32; bf16 (autocast to bfloat16, F32 master weights);
 *     fp16 (autocast to float16 with dynamic loss scaling)
 */
public record TrainConfig(long steps, int batchSize, int gradAccum, String optimizer, double lr, double minLr, long warmup,
        double weightDecay, double clip, double zLoss, int evalEvery, int evalBatches, int checkpointEvery, int keepCheckpoints,
        long seed, double spikeFactor, int spikeWindow, int maxRollbacks, String dtype) {
    public TrainConfig {
        autocastType(dtype); // validates
        if (steps <= 0 || batchSize <= 0 || gradAccum <= 0) {
            throw new IllegalArgumentException("train: steps, batch size and grad accumulation must be positive, got " + steps + ", "
                    + batchSize + ", " + gradAccum);
        }
        if (!java.util.Set.of("adamw", "adam", "sgd", "lion", "schedulefree").contains(optimizer)) {
            throw new IllegalArgumentException("train: unknown optimizer '" + optimizer + "' (adamw, adam, sgd, lion, schedulefree)");
        }
        if (!(lr > 0) || !(minLr >= 0) || minLr > lr || !Double.isFinite(lr) || warmup < 0 || warmup > steps) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "train: need a finite --lr > 0, 0 <= --min-lr <= --lr and"
                    + " 0 <= --warmup <= --steps, got lr %.4g, min lr %.4g, warmup %d, steps %d", lr, minLr, warmup, steps));
        }
        if (!(weightDecay >= 0) || !(clip >= 0) || !(zLoss >= 0) || !Double.isFinite(weightDecay) || !Double.isFinite(clip)
                || !Double.isFinite(zLoss)) {
            throw new IllegalArgumentException("train: --weight-decay, --clip and --z-loss must be finite and >= 0, got " + weightDecay
                    + ", " + clip + ", " + zLoss);
        }
        if (evalEvery <= 0 || evalBatches <= 0 || checkpointEvery <= 0 || keepCheckpoints < 2) {
            throw new IllegalArgumentException("train: eval/checkpoint intervals must be positive and at least 2 checkpoints kept");
        }
        if (!(spikeFactor == 0 || spikeFactor > 1) || spikeWindow < 3 || maxRollbacks < 0) {
            throw new IllegalArgumentException("train: spike factor must be 0 (off) or > 1, window >= 3, got " + spikeFactor + ", "
                    + spikeWindow);
        }
    }

    /**
     * The type --dtype {@code dtype} runs matmul-class ops in under autocast: null for fp32, BF16 for
     * bf16, F16 for fp16 (which also takes a loss scaler); one line naming the choices otherwise.
     */
    public static dev.tessera.tensor.DType autocastType(String dtype) {
        return switch (String.valueOf(dtype)) {
            case "fp32" -> null;
            case "bf16" -> dev.tessera.tensor.DType.BF16;
            case "fp16" -> dev.tessera.tensor.DType.F16;
            default -> throw new IllegalArgumentException("train: unknown --dtype '" + dtype + "' (fp32, bf16, fp16)");
        };
    }

    /** In fp32, the precision every run had before --dtype. */
    public TrainConfig(long steps, int batchSize, int gradAccum, String optimizer, double lr, double minLr, long warmup,
            double weightDecay, double clip, double zLoss, int evalEvery, int evalBatches, int checkpointEvery, int keepCheckpoints,
            long seed, double spikeFactor, int spikeWindow, int maxRollbacks) {
        this(steps, batchSize, gradAccum, optimizer, lr, minLr, warmup, weightDecay, clip, zLoss, evalEvery, evalBatches, checkpointEvery,
                keepCheckpoints, seed, spikeFactor, spikeWindow, maxRollbacks, "fp32");
    }

    /**
     * The first hyperparameter of this configuration that differs from {@code recorded}, the one a
     * run was trained with, as "--flag value"; null when they agree. The length ({@code steps}, see
     * {@link Schedule}) and the bookkeeping intervals (eval/checkpoint every, checkpoints kept) may
     * change on resume and are not compared.
     */
    String contradiction(TrainConfig recorded) {
        Object[][] pairs = {
                {"--batch-size", batchSize, recorded.batchSize}, {"--grad-accum", gradAccum, recorded.gradAccum},
                {"--optimizer", optimizer, recorded.optimizer}, {"--lr", lr, recorded.lr}, {"--min-lr", minLr, recorded.minLr},
                {"--warmup", warmup, recorded.warmup}, {"--weight-decay", weightDecay, recorded.weightDecay}, {"--clip", clip, recorded.clip},
                {"--z-loss", zLoss, recorded.zLoss}, {"--eval-batches", evalBatches, recorded.evalBatches}, {"--seed", seed, recorded.seed},
                {"spike factor", spikeFactor, recorded.spikeFactor}, {"spike window", spikeWindow, recorded.spikeWindow},
                {"max rollbacks", maxRollbacks, recorded.maxRollbacks}, {"--dtype", dtype, recorded.dtype}};
        for (Object[] p : pairs) {
            if (!p[1].equals(p[2])) {
                return p[0] + " " + p[1] + " (the run has " + p[2] + ")";
            }
        }
        return null;
    }

    /**
     * Refuses this configuration for resuming, at {@code step}, a run recorded with {@code recorded}
     * (in {@code file}): another hyperparameter, or a length that does not reach beyond the step.
     */
    public void checkResume(TrainConfig recorded, long step, java.nio.file.Path file) {
        String contradiction = contradiction(recorded);
        if (contradiction != null) {
            throw new IllegalArgumentException("train: --resume: " + contradiction + ", recorded in " + file + "; a resume keeps the run's"
                    + " hyperparameters: drop the option, or start a new run under another --name");
        }
        if (steps != recorded.steps && steps <= step) {
            throw new IllegalArgumentException("train: --resume: --steps " + steps + " is not beyond step " + step
                    + ", where the run's newest checkpoint stands");
        }
    }

    /** Defaults in the spirit of nanoGPT for a small model on a CPU. */
    public static TrainConfig defaults(long steps, int batchSize) {
        return new TrainConfig(steps, batchSize, 1, "adamw", 3e-3, 3e-4, Math.min(100, steps / 10), 0.1, 1.0, 0, 50, 4, 100, 3, 1337,
                4.0, 50, 3);
    }

    public TrainConfig withZLoss(double z) {
        return new TrainConfig(steps, batchSize, gradAccum, optimizer, lr, minLr, warmup, weightDecay, clip, z, evalEvery, evalBatches,
                checkpointEvery, keepCheckpoints, seed, spikeFactor, spikeWindow, maxRollbacks, dtype);
    }

    public TrainConfig withSteps(long s) {
        return new TrainConfig(s, batchSize, gradAccum, optimizer, lr, minLr, warmup, weightDecay, clip, zLoss, evalEvery, evalBatches,
                checkpointEvery, keepCheckpoints, seed, spikeFactor, spikeWindow, maxRollbacks, dtype);
    }

    public TrainConfig withDtype(String d) {
        return new TrainConfig(steps, batchSize, gradAccum, optimizer, lr, minLr, warmup, weightDecay, clip, zLoss, evalEvery, evalBatches,
                checkpointEvery, keepCheckpoints, seed, spikeFactor, spikeWindow, maxRollbacks, d);
    }
}
