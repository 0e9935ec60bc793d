package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The README's autograd example, kept compiling and true. */
class ReadmeExampleTest {
    @Test
    void readmeTrainingLoopLowersTheLoss() {
        // --- README example starts
        Generator g = new Generator(0);
        Linear layer = new Linear(8, 3, true, g);                      // y = x Wᵀ + b, W is (3, 8)
        AdamW opt = new AdamW(ParamGroup.all(layer.parameters()), 1e-2);
        Tensor x = Tensor.randn(g, DType.F32, 32, 8);
        Tensor labels = Tensor.randint(g, 0, 3, DType.I64, 32);
        double first = 0;
        double last = 0;
        for (int step = 0; step < 100; step++) {
            Variable loss = Losses.crossEntropy(layer.forward(Variable.constant(x)), labels);
            loss.backward();                                             // fills each parameter's grad()
            opt.step();
            opt.zeroGrad();
            if (step == 0) {
                first = loss.item();
            }
            last = loss.item();
        }
        // --- README example ends
        assertTrue(last < 0.8 * first, first + " -> " + last);
    }

    @Test
    void readmeDevicesExampleRunsOnTheSimulatedDevice() {
        Linear layer = new Linear(8, 3, true, new Generator(0));
        // --- README devices example starts
        Tensor a = Tensor.randn(new Generator(1), DType.F32, 4, 8).to(Device.SIM);  // or Device.CUDA
        Tensor b = a.matmul(a.mT()).softmax(-1);        // runs on a's device
        double total = b.sum().item();                   // reading elements copies them to the host
        layer.to(Device.SIM);                            // Module.to: parameters (in place) and buffers
        // --- README devices example ends
        assertEquals(Device.SIM, b.device());
        assertEquals(4, total, 1e-5);
        assertEquals(Device.SIM, layer.forward(Variable.constant(a)).data().device());
    }
}
