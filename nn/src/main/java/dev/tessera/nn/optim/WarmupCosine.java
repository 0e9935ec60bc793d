package dev.tessera.nn.optim;

/**
 * Linear warmup then cosine decay (Loshchilov &amp; Hutter 2017, SGDR, without restarts; the
 * LLaMA / GPT-3 schedule, usually with floor = peak/10):
 *
 * <pre>
 *   lr(s) = peak·s/W                                               s &lt; W
 *   lr(s) = floor + ½(peak − floor)(1 + cos(π·(s − W)/(S − W)))    W ≤ s ≤ S
 *   lr(s) = floor                                                  s &gt; S
 * </pre>
 */
public record WarmupCosine(double peak, long warmupSteps, long totalSteps, double floor) implements LrSchedule {
    public WarmupCosine {
        LrSchedule.checkRate("WarmupCosine", "peak", peak);
        LrSchedule.checkRate("WarmupCosine", "floor", floor);
        if (warmupSteps < 0 || totalSteps < warmupSteps) {
            throw new IllegalArgumentException("WarmupCosine: need 0 <= warmupSteps <= totalSteps, got " + warmupSteps + " and " + totalSteps);
        }
    }

    @Override
    public double lr(long step) {
        if (step < warmupSteps) {
            return LrSchedule.warmup(peak, warmupSteps, step);
        }
        if (step >= totalSteps) {
            return totalSteps == warmupSteps && step == totalSteps ? peak : floor;
        }
        double progress = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
    }
}
