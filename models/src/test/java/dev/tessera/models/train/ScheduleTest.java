package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.optim.WarmupCosine;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A change of --steps on resume keeps the past, never jumps, and ends at the floor on the new last step. */
class ScheduleTest {
    static TrainConfig config(long steps, long warmup) {
        return new TrainConfig(steps, 4, 1, "adamw", 3e-3, 3e-4, warmup, 0.1, 1.0, 0, 10, 1, 10, 3, 1, 0, 10, 3);
    }

    @Test
    void withoutChangesItIsWarmupCosine() {
        Schedule s = new Schedule(config(200, 20), List.of());
        WarmupCosine w = new WarmupCosine(3e-3, 20, 200, 3e-4);
        for (long step = 0; step <= 210; step++) {
            assertEquals(w.lr(step), s.lr(step), "step " + step);
        }
    }

    @Test
    void aLongerRunContinuesFromTheResumeStepWithoutAJump() {
        Schedule before = new Schedule(config(200, 20), List.of());
        Schedule after = new Schedule(config(1000, 20), List.of(new Schedule.Change(120, 200, 1000)));
        for (long step = 0; step <= 120; step++) {
            assertEquals(before.lr(step), after.lr(step), "the past is unchanged at step " + step);
        }
        for (long step = 121; step <= 1000; step++) {
            assertTrue(after.lr(step) <= after.lr(step - 1), "decays monotonically at step " + step);
        }
        assertEquals(3e-4, after.lr(1000), 1e-15);
        assertEquals(3e-4, after.lr(2000), 1e-15);
        // halfway through the new stretch the rate is halfway between where it stood and the floor
        assertEquals(3e-4 + 0.5 * (before.lr(120) - 3e-4), after.lr(560), 1e-12);
    }

    @Test
    void aFinishedRunStaysAtItsFloorAndAChangeDuringWarmupKeepsTheWarmup() {
        Schedule finished = new Schedule(config(1000, 20), List.of(new Schedule.Change(200, 200, 1000)));
        for (long step = 200; step <= 1000; step += 50) {
            assertEquals(3e-4, finished.lr(step), 1e-15);
        }
        Schedule early = new Schedule(config(1000, 20), List.of(new Schedule.Change(10, 200, 1000)));
        WarmupCosine w = new WarmupCosine(3e-3, 20, 1000, 3e-4);
        for (long step = 0; step <= 1000; step += 7) {
            assertEquals(w.lr(step), early.lr(step), "step " + step);
        }
    }

    @Test
    void twoChangesRebuildTheSameCurveAndScheduleFreeStaysConstant() {
        Schedule once = new Schedule(config(500, 20), List.of(new Schedule.Change(120, 200, 500)));
        Schedule twice = new Schedule(config(800, 20), List.of(new Schedule.Change(120, 200, 500), new Schedule.Change(300, 500, 800)));
        for (long step = 0; step <= 300; step++) {
            assertEquals(once.lr(step), twice.lr(step), "step " + step);
        }
        assertTrue(twice.lr(301) <= twice.lr(300) && twice.lr(800) == 3e-4);
        TrainConfig c = config(100, 10);
        TrainConfig sf = new TrainConfig(100, 4, 1, "schedulefree", 3e-3, 3e-4, 10, 0.1, 1.0, 0, 10, 1, 10, 3, 1, 0, 10, 3);
        assertEquals(c.lr(), new Schedule(sf, List.of(new Schedule.Change(50, 100, 200))).lr(150));
    }
}
