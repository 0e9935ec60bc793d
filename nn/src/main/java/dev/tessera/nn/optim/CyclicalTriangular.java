package dev.tessera.nn.optim;

/**
 * Cyclical learning rate, triangular policy (Smith 2017, "Cyclical Learning Rates for Training
 * Neural Networks"): the rate climbs linearly from base to max over {@code stepSize} steps and back
 * down over the next {@code stepSize}, forever.
 *
 * <pre>
 *   cycle = ⌊1 + s/(2·stepSize)⌋,   x = |s/stepSize − 2·cycle + 1|
 *   lr(s) = base + (max − base)·max(0, 1 − x)
 * </pre>
 */
public record CyclicalTriangular(double base, double max, long stepSize) implements LrSchedule {
    public CyclicalTriangular {
        LrSchedule.checkRate("CyclicalTriangular", "base", base);
        LrSchedule.checkRate("CyclicalTriangular", "max", max);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("CyclicalTriangular: stepSize must be > 0, got " + stepSize);
        }
    }

    @Override
    public double lr(long step) {
        double cycle = Math.floor(1 + step / (2.0 * stepSize));
        double x = Math.abs((double) step / stepSize - 2 * cycle + 1);
        return base + (max - base) * Math.max(0, 1 - x);
    }
}
