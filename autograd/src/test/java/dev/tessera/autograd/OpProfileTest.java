package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class OpProfileTest {
    private static Variable step() {
        Variable w = Variable.of(Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), true);
        Variable x = Variable.constant(Tensor.of(new float[] {1, 0, 2, 1, 0, 3}, 3, 2));
        Variable loss = w.matmul(x).add(1.0).sum();
        loss.backward();
        return w;
    }

    /** Row of the report for (phase, op): its calls per step, or -1 when absent. */
    private static double calls(String report, String phase, String op) {
        for (String line : report.split("\n")) {
            List<String> cells = Arrays.stream(line.trim().split("\\s+")).toList();
            if (cells.size() == 5 && cells.get(0).equals(phase) && cells.get(1).equals(op)) {
                return Double.parseDouble(cells.get(2));
            }
        }
        return -1;
    }

    @Test
    void chargesEachForwardAndBackwardOpOncePerCall() {
        OpProfile.start();
        try {
            for (int i = 0; i < 2; i++) {
                OpProfile.mark();
                step();
            }
        } finally {
            OpProfile.stop();
        }
        String report = OpProfile.report(2, 1.0);
        assertEquals(1.0, calls(report, "forward", "matmul"), report);
        assertEquals(1.0, calls(report, "forward", "add"), report);
        assertEquals(1.0, calls(report, "backward", "matmul"), report);
        assertEquals(1.0, calls(report, "backward", "add"), report);
        assertTrue(report.contains("total"), report);
    }

    @Test
    void countsNothingWhenOffOrOnAnotherThread() throws Exception {
        step(); // before start: not counted
        OpProfile.start();
        try (var other = Executors.newSingleThreadExecutor()) {
            other.submit(OpProfileTest::step).get();
        } finally {
            OpProfile.stop();
        }
        step(); // after stop: not counted
        String report = OpProfile.report(1, 1.0);
        assertEquals(-1, calls(report, "forward", "matmul"), report);
        assertFalse(report.contains("backward "), report);
    }
}
