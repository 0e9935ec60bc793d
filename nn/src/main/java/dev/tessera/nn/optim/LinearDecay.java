package dev.tessera.nn.optim;

/**
 * Linear warmup then linear decay (BERT's schedule):
 *
 * <pre>
 *   lr(s) = peak·s/W                                s &lt; W
 *   lr(s) = peak + (end − peak)·(s − W)/(S − W)     W ≤ s ≤ S
 *   lr(s) = end                                     s &gt; S
 * </pre>
 */
public record LinearDecay(double peak, long warmupSteps, long totalSteps, double end) implements LrSchedule {
    public LinearDecay {
        LrSchedule.checkRate("LinearDecay", "peak", peak);
        LrSchedule.checkRate("LinearDecay", "end", end);
        if (warmupSteps < 0 || totalSteps < warmupSteps) {
            throw new IllegalArgumentException("LinearDecay: need 0 <= warmupSteps <= totalSteps, got " + warmupSteps + " and " + totalSteps);
        }
    }

    @Override
    public double lr(long step) {
        if (step < warmupSteps) {
            return LrSchedule.warmup(peak, warmupSteps, step);
        }
        if (step >= totalSteps) {
            return totalSteps == warmupSteps && step == totalSteps ? peak : end;
        }
        return peak + (end - peak) * (step - warmupSteps) / (totalSteps - warmupSteps);
    }
}
