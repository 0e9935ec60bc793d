package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Each schedule at its key steps (0, warmup end, middle, end, past end) against its formula. */
class LrScheduleTest {
    static final double EPS = 1e-15;

    @Test
    void warmupCosine() {
        var s = new WarmupCosine(1e-3, 100, 1100, 1e-4);
        assertEquals(0, s.lr(0), EPS);
        assertEquals(1e-3 * 50 / 100, s.lr(50), EPS);
        assertEquals(1e-3, s.lr(100), EPS);
        assertEquals(1e-4 + 0.5 * 9e-4, s.lr(600), 1e-15); // cos(π/2) = 0: halfway between peak and floor
        assertEquals(1e-4 + 0.5 * 9e-4 * (1 + Math.cos(Math.PI * 0.25)), s.lr(350), EPS);
        assertEquals(1e-4, s.lr(1100), EPS);
        assertEquals(1e-4, s.lr(5000), EPS);
        var noWarmup = new WarmupCosine(2, 0, 10, 0);
        assertEquals(2, noWarmup.lr(0), EPS);
        assertThrows(IllegalArgumentException.class, () -> new WarmupCosine(1, 10, 5, 0));
    }

    @Test
    void linearDecay() {
        var s = new LinearDecay(1.0, 10, 110, 0.1);
        assertEquals(0, s.lr(0), EPS);
        assertEquals(0.5, s.lr(5), EPS);
        assertEquals(1.0, s.lr(10), EPS);
        assertEquals(1.0 - 0.9 * 0.5, s.lr(60), EPS);
        assertEquals(0.1, s.lr(110), EPS);
        assertEquals(0.1, s.lr(1000), EPS);
    }

    @Test
    void constant() {
        assertEquals(3e-4, new Constant(3e-4).lr(0), EPS);
        var s = new Constant(3e-4, 4);
        assertEquals(0, s.lr(0), EPS);
        assertEquals(3e-4 * 3 / 4, s.lr(3), EPS);
        assertEquals(3e-4, s.lr(4), EPS);
        assertEquals(3e-4, s.lr(1_000_000), EPS);
        assertThrows(IllegalArgumentException.class, () -> new Constant(-1));
    }

    @Test
    void cyclicalTriangular() {
        var s = new CyclicalTriangular(0.1, 1.0, 10);
        assertEquals(0.1, s.lr(0), EPS);
        assertEquals(0.1 + 0.9 * 0.5, s.lr(5), 1e-14);
        assertEquals(1.0, s.lr(10), EPS);
        assertEquals(0.1 + 0.9 * 0.3, s.lr(17), 1e-14);
        assertEquals(0.1, s.lr(20), EPS);
        assertEquals(1.0, s.lr(30), EPS); // the second cycle repeats the first
        for (int step = 0; step < 60; step++) {
            assertEquals(s.lr(step % 20), s.lr(step), 1e-14);
        }
        assertThrows(IllegalArgumentException.class, () -> new CyclicalTriangular(0.1, 1, 0));
    }
}
