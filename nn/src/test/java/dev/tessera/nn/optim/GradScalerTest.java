package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** G9 dynamic loss scaling against torch.amp.GradScaler('cpu') (fixture by {@code nn/tools/golden_g9_amp.py}). */
class GradScalerTest {
    private static Map<String, Tensor> golden() throws Exception {
        return SafeTensors.read(Path.of(GradScalerTest.class.getResource("/golden/g9/amp.safetensors").toURI()));
    }

    /** The fixture's loop: SGD(lr 0.1) on Σ c_i · p; returns the scale after each update and p after each step. */
    private static double[][] run(GradScaler scaler, Tensor coefs, double[] params) {
        int steps = coefs.size(0);
        Variable p = Variable.of(Tensor.of(new float[] {1.0f, -2.0f, 0.5f}, 3), true);
        SGD sgd = new SGD(List.of(ParamGroup.of(List.of(p))), 0.1);
        double[] scales = new double[steps];
        for (int i = 0; i < steps; i++) {
            sgd.zeroGrad();
            Variable c = Variable.of(coefs.select(0, i).to(DType.F32), false);
            scaler.scale(c.mul(p).sum()).backward();
            scaler.step(sgd);
            scaler.update();
            scales[i] = scaler.scale();
            if (params != null) {
                System.arraycopy(p.data().toDoubleArray(), 0, params, 3 * i, 3);
            }
        }
        return new double[][] {scales};
    }

    @Test
    void scheduleAndStepsMatchTorchWithAShortInterval() throws Exception {
        Map<String, Tensor> g = golden();
        double[] params = new double[36];
        double[] scales = run(new GradScaler(65536, 2, 0.5, 3), g.get("scaler.small.coefs"), params)[0];
        assertArrayEquals(g.get("scaler.small.scales").toDoubleArray(), scales, 0.0, "scale after each update");
        // skipped steps leave p alone; the others are SGD steps on the true (unscaled) gradient
        assertArrayEquals(g.get("scaler.small.params").toDoubleArray(), params, 1e-6, "p after each step");
    }

    @Test
    void defaultsBackOffOnceAndGrowAfter2000GoodSteps() throws Exception {
        Map<String, Tensor> g = golden();
        double[] scales = run(new GradScaler(), g.get("scaler.default.coefs"), null)[0];
        assertArrayEquals(g.get("scaler.default.scales").toDoubleArray(), scales, 0.0);
    }

    @Test
    void unscaleReportsInfAndNaNAndDividesGradients() {
        Variable p = Variable.of(Tensor.of(new float[] {1, 2}, 2), true);
        SGD sgd = new SGD(List.of(ParamGroup.of(List.of(p))), 0.1);
        GradScaler scaler = new GradScaler(8, 2, 0.5, 5);
        scaler.scale(p.mul(3).sum()).backward();
        assertFalse(scaler.unscale(sgd));
        assertArrayEquals(new double[] {3, 3}, p.grad().toDoubleArray(), 0.0);
        var twice = assertThrows(IllegalStateException.class, () -> scaler.unscale(sgd));
        assertTrue(twice.getMessage().startsWith("GradScaler.unscale:"), twice.getMessage());
        assertTrue(scaler.step(sgd));
        scaler.update();
        assertEquals(1, scaler.growthTracker());
        p.setGrad(Tensor.of(new float[] {Float.NaN, 1}, 2));
        assertFalse(scaler.step(sgd), "a NaN gradient skips the step");
        scaler.update();
        assertEquals(4, scaler.scale(), 0.0);
        assertEquals(0, scaler.growthTracker());
        assertArrayEquals(new double[] {1 - 0.3, 2 - 0.3}, p.data().toDoubleArray(), 1e-6, "only the good step moved p");
    }

    @Test
    void stateDictRoundTripsAndChecksItsFactors() {
        GradScaler a = new GradScaler(1024, 2, 0.5, 4);
        Variable p = Variable.of(Tensor.of(new float[] {1}, 1), true);
        SGD sgd = new SGD(List.of(ParamGroup.of(List.of(p))), 0.1);
        for (int i = 0; i < 3; i++) {
            sgd.zeroGrad();
            a.scale(p.sum()).backward();
            a.step(sgd);
            a.update();
        }
        GradScaler b = new GradScaler(1024, 2, 0.5, 4);
        b.loadStateDict(a.stateDict());
        assertEquals(a.stateDict(), b.stateDict());
        assertEquals(3, b.growthTracker());
        var bad = assertThrows(IllegalArgumentException.class, () -> new GradScaler(1024, 2, 0.5, 2000).loadStateDict(a.stateDict()));
        assertTrue(bad.getMessage().startsWith("GradScaler.loadStateDict:"), bad.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(Map.of("scale", 2.0)));
        assertTrue(missing.getMessage().contains("missing key"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GradScaler(0, 2, 0.5, 1));
    }
}
