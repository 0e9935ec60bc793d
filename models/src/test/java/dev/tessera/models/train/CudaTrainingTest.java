package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.gpu.GpuSupport;
import dev.tessera.models.Preset;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated-device training test on the real device: the tiny preset's 20 steps on CUDA track
 * the CPU run (float sums in another order, so close, not bitwise). Skipped without CUDA;
 * {@code gpu/run-gpu-tests.sh} runs it on a lent GPU.
 */
@Tag("gpu")
class CudaTrainingTest {
    @Test
    void twentyStepsOfTheTinyPresetOnCudaTrackTheCpuRun(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(GpuSupport.available(), () -> "CUDA not available: " + GpuSupport.unavailableReason().orElse(""));
        Preset tiny = Preset.of("tiny");
        var cpu = SimulatedDeviceTrainingTest.train(Device.CPU, tiny.config(), tiny.batchSize(), 20, dir.resolve("cpu"));
        var gpu = SimulatedDeviceTrainingTest.train(Device.CUDA, tiny.config(), tiny.batchSize(), 20, dir.resolve("cuda"));
        assertEquals(cpu.losses().size(), gpu.losses().size());
        for (int i = 0; i < cpu.losses().size(); i++) {
            double a = cpu.losses().get(i);
            double b = gpu.losses().get(i);
            assertTrue(Math.abs(a - b) <= 2e-3 * Math.abs(a), "step " + (i + 1) + ": cpu " + a + " cuda " + b);
        }
        for (var e : cpu.weights().entrySet()) {
            Tensor w = gpu.weights().get(e.getKey());
            double diff = e.getValue().sub(w.to(Device.CPU)).abs().max(false).item();
            double scale = e.getValue().abs().max(false).item();
            assertTrue(diff <= 1e-2 * Math.max(scale, 1e-3), e.getKey() + ": max |cpu - cuda| " + diff + " of scale " + scale);
        }
    }
}
