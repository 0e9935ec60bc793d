package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.Preset;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.data.TokenizedCorpus;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SimulatedBackend;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole training path (model, autograd, fused kernels, AdamW, gradient clipping, validation,
 * checkpoints) on the simulated device: every op goes through the backend seam and no host code
 * reads device memory (it would throw), so the losses and weights must be the CPU's bit for bit.
 */
class SimulatedDeviceTrainingTest {
    static PackedDataset data(int sequenceLength) {
        Generator g = new Generator(5);
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < 400; d++) {
            int[] doc = new int[20 + (int) g.nextLong(40)];
            int base = 'a' + (int) g.nextLong(5);
            for (int i = 0; i < doc.length; i++) {
                doc[i] = base + (i % 7);
            }
            docs.add(doc);
        }
        return new PackedDataset(TokenizedCorpus.of(docs, 256, 255), PackedDataset.Config.of(sequenceLength, 11));
    }

    record Run(List<Double> losses, Map<String, Tensor> weights, long deviceOps) {}

    static Run train(Device device, ModelConfig config, int batchSize, int steps, Path dir) throws Exception {
        LanguageModel model = Models.create(config, new Generator(7));
        model.module().to(device);
        TrainConfig cfg = new TrainConfig(steps, batchSize, 1, "adamw", 1e-2, 1e-3, 3, 0.1, 1.0, 1e-4, 10, 1, 10, 3, 7, 0, 10, 3);
        TrainerTest.Events events = new TrainerTest.Events();
        long before = SimulatedBackend.INSTANCE.opsRun();
        Objective objective = Objective.of(config, 255, 7, 1e-4);
        new Trainer(model, data(config.contextLength()), cfg, dir, events, objective).run(false);
        for (var p : model.module().parameters()) {
            assertEquals(device, p.data().device(), "parameters stay on the device");
        }
        return new Run(events.losses, model.stateDict(), SimulatedBackend.INSTANCE.opsRun() - before);
    }

    private static void assertSameRun(Run cpu, Run sim) {
        assertEquals(cpu.losses(), sim.losses());
        assertEquals(cpu.weights().keySet(), sim.weights().keySet());
        for (var e : cpu.weights().entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), sim.weights().get(e.getKey()).toFloatArray(), e.getKey());
        }
        assertEquals(0, cpu.deviceOps());
        assertTrue(sim.deviceOps() > 1000, "ops ran on the device: " + sim.deviceOps());
    }

    @Test
    void aSmallLlamaTrainsBitwiseAsOnTheCpu(@TempDir Path dir) throws Exception {
        ModelConfig small = TrainerTest.tinyModel();
        assertSameRun(train(Device.CPU, small, 4, 6, dir.resolve("cpu")), train(Device.SIM, small, 4, 6, dir.resolve("sim")));
    }

    /** BERT's masked-LM objective masks on the host; the masked ids must follow the batch onto the model's device. */
    @Test
    void theMaskedLmLossOfAnEncoderOnTheSimulatedDeviceIsTheCpus() {
        ModelConfig bert = ModelConfig.bert(257, 16, 1, 32, 2, 64);
        PackedDataset.Batch batch = data(bert.contextLength()).batch(0, 2);
        MaskedLm mlm = MaskedLm.of(bert, 255, 11);
        double[] losses = new double[2];
        for (Device device : new Device[] {Device.CPU, Device.SIM}) {
            LanguageModel model = Models.create(bert, new Generator(1));
            model.module().to(device);
            losses[device == Device.CPU ? 0 : 1] = mlm.loss(model, batch.to(device), 0).data().item();
        }
        assertEquals(losses[0], losses[1]);
    }

    @Test
    void anEncoderWithDropoutTrainsOnTheMaskedLmObjectiveBitwiseAsOnTheCpu(@TempDir Path dir) throws Exception {
        ModelConfig bert = ModelConfig.bert(256, 32, 2, 32, 4, 64).toBuilder().dropout(0.1).build();
        assertSameRun(train(Device.CPU, bert, 4, 4, dir.resolve("cpu")), train(Device.SIM, bert, 4, 4, dir.resolve("sim")));
    }

    @Test
    void twentyStepsOfTheTinyPresetOnTheSimulatedDeviceAreTheCpuRunBitForBit(@TempDir Path dir) throws Exception {
        Preset tiny = Preset.of("tiny");
        Run cpu = train(Device.CPU, tiny.config(), tiny.batchSize(), 20, dir.resolve("cpu"));
        Run sim = train(Device.SIM, tiny.config(), tiny.batchSize(), 20, dir.resolve("sim"));
        assertSameRun(cpu, sim);
    }
}
