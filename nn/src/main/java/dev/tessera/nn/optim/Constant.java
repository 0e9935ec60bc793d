package dev.tessera.nn.optim;

/** A constant rate after an optional linear warmup: lr(s) = value·min(1, s/W) (value when W = 0). */
public record Constant(double value, long warmupSteps) implements LrSchedule {
    public Constant {
        LrSchedule.checkRate("Constant", "value", value);
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("Constant: warmupSteps must be >= 0, got " + warmupSteps);
        }
    }

    public Constant(double value) {
        this(value, 0);
    }

    @Override
    public double lr(long step) {
        return LrSchedule.warmup(value, warmupSteps, step);
    }
}
