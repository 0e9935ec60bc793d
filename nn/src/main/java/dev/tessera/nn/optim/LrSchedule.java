package dev.tessera.nn.optim;

/**
 * A learning rate as a function of the optimizer step (G3), counted from 0. Call
 * {@link #apply(Optimizer, long)} before each {@code optimizer.step()}.
 */
@FunctionalInterface
public interface LrSchedule {
    double lr(long step);

    /** Sets every group of {@code opt} to {@code lr(step)} and returns it. */
    default double apply(Optimizer opt, long step) {
        double lr = lr(step);
        opt.setLr(lr);
        return lr;
    }

    /** Linear warmup from 0 at step 0 to {@code peak} at step {@code warmupSteps} (peak when warmupSteps is 0). */
    static double warmup(double peak, long warmupSteps, long step) {
        return step < warmupSteps ? peak * step / warmupSteps : peak;
    }

    static void checkRate(String who, String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(who + ": " + what + " must be finite and >= 0, got " + v);
        }
    }
}
