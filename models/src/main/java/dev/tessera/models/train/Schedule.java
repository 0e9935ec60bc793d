package dev.tessera.models.train;

import dev.tessera.nn.optim.LrSchedule;
import dev.tessera.nn.optim.WarmupCosine;
import java.util.List;

/**
 * The learning rate of a run, including the changes of its length made by {@code --steps} on
 * resume. Without changes it is {@link WarmupCosine}: linear warmup to {@code lr}, cosine to
 * {@code minLr} at {@code steps}. A change at step k from S to S' keeps everything before k and
 * never jumps:
 *
 * <pre>
 *   k ≤ warmup:  lr(s) = WarmupCosine(lr, warmup, S', minLr)(s)            (the warmup is the same)
 *   k > warmup:  lr(s) = minLr + ½(lr₋(k) − minLr)(1 + cos(π·(s − k)/(S' − k)))   k ≤ s ≤ S'
 * </pre>
 *
 * where lr₋ is the schedule before the change: the rate carries on from where it stood and decays
 * by a cosine to the floor at the new last step (a finished run, already at the floor, stays
 * there). Changes are recorded in each checkpoint's state.json, so a later resume rebuilds the
 * same curve. Schedule-Free runs keep a constant rate.
 */
public final class Schedule implements LrSchedule {
    /** The run's length changed from {@code fromSteps} to {@code toSteps} when it resumed at {@code atStep}. */
    public record Change(long atStep, long fromSteps, long toSteps) {
        public Change {
            if (atStep < 0 || fromSteps <= 0 || toSteps <= atStep) {
                throw new IllegalArgumentException("train: a change of --steps at step " + atStep + " must end after it, got "
                        + fromSteps + " -> " + toSteps);
            }
        }
    }

    private final TrainConfig cfg;
    private final List<Change> changes;

    public Schedule(TrainConfig cfg, List<Change> changes) {
        this.cfg = cfg;
        this.changes = List.copyOf(changes);
        long steps = changes.isEmpty() ? cfg.steps() : changes.get(0).fromSteps();
        new WarmupCosine(cfg.lr(), cfg.warmup(), steps, cfg.minLr()); // validates the base curve
    }

    @Override
    public double lr(long step) {
        return cfg.optimizer().equals("schedulefree") ? cfg.lr() : lr(step, changes.size());
    }

    /** The rate under the first {@code n} changes. */
    private double lr(long s, int n) {
        for (int i = n - 1; i >= 0; i--) {
            Change c = changes.get(i);
            if (s < c.atStep()) {
                continue;
            }
            if (c.atStep() <= cfg.warmup()) {
                return new WarmupCosine(cfg.lr(), cfg.warmup(), Math.max(c.toSteps(), cfg.warmup()), cfg.minLr()).lr(s);
            }
            if (s >= c.toSteps()) {
                return cfg.minLr();
            }
            double start = lr(c.atStep(), i);
            double progress = (double) (s - c.atStep()) / (c.toSteps() - c.atStep());
            return cfg.minLr() + 0.5 * (start - cfg.minLr()) * (1 + Math.cos(Math.PI * progress));
        }
        long steps = changes.isEmpty() ? cfg.steps() : changes.get(0).fromSteps();
        return new WarmupCosine(cfg.lr(), cfg.warmup(), steps, cfg.minLr()).lr(s);
    }
}
