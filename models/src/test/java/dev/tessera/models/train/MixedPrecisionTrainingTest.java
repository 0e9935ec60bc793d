package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.Models;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** G9 in the training loop: bf16 autocast trains, fp16 scales the loss and checkpoints the scaler, a resume keeps the dtype. */
class MixedPrecisionTrainingTest {
    private static TrainerTest.Events run(Path dir, String dtype, long steps, long stopAt, boolean resume, LanguageModel model)
            throws Exception {
        TrainerTest.Events events = new TrainerTest.Events();
        new Trainer(model, TrainerTest.data(), TrainerTest.config(steps).withDtype(dtype), dir, events).run(resume, stopAt);
        return events;
    }

    /** The loss scaler's state in the run's newest checkpoint, which must be at {@code step}. */
    private static Map<String, Double> scalerState(Path run, long step) {
        Checkpoints.Checkpoint ck = new Checkpoints(run.resolve("checkpoints"), 3).latest().orElseThrow();
        assertEquals(step, ck.step());
        return TrainState.read(ck).gradScaler();
    }

    @Test
    void bf16TrainsTheTinyModelWithF32MasterWeights(@TempDir Path dir) throws Exception {
        LanguageModel model = Models.create(TrainerTest.tinyModel(), new Generator(3));
        TrainerTest.Events bf16 = run(dir.resolve("bf16"), "bf16", 12, 12, false, model);
        double first = bf16.losses.get(0);
        double last = bf16.losses.get(bf16.losses.size() - 1);
        assertTrue(last < 0.6 * first, "loss " + first + " -> " + last);
        model.module().parameters().forEach(p -> assertEquals(DType.F32, p.data().dtype(), "master weights stay F32"));
        TrainerTest.Events fp32 = run(dir.resolve("fp32"), "fp32", 30, 3, false, Models.create(TrainerTest.tinyModel(), new Generator(3)));
        assertEquals(fp32.losses.get(0), first, 0.02 * first, "the same model and data");
        assertNotEquals(fp32.losses.get(2), bf16.losses.get(2), "bf16 must change the arithmetic");
        assertTrue(scalerState(dir.resolve("bf16"), 12).isEmpty(), "bf16 needs no loss scaling");
    }

    @Test
    void fp16ResumesBitwiseWithItsScalerState(@TempDir Path dir) throws Exception {
        Map<String, Tensor> straight = trainFp16(dir.resolve("straight"), 1, 10, 10, false);
        trainFp16(dir.resolve("resumed"), 1, 10, 5, false);
        Map<String, Tensor> resumed = trainFp16(dir.resolve("resumed"), 99, 10, 10, true);
        for (String name : straight.keySet()) {
            assertArrayEquals(straight.get(name).toFloatArray(), resumed.get(name).toFloatArray(), name);
        }
        Map<String, Double> atEnd = scalerState(dir.resolve("straight"), 10);
        assertEquals(65536.0, atEnd.get("scale"), 0.0, "no overflow at this size: the initial scale holds");
        assertEquals(10.0, atEnd.get("_growth_tracker"), 0.0, "ten good steps");
        assertEquals(atEnd, scalerState(dir.resolve("resumed"), 10), "the growth tracker went through the checkpoint");
        var e = assertThrows(IllegalArgumentException.class,
                () -> run(dir.resolve("resumed"), "bf16", 12, 12, true, Models.create(TrainerTest.tinyModel(), new Generator(1))));
        assertTrue(e.getMessage().contains("--dtype bf16 (the run has fp16)"), e.getMessage());
    }

    @Test
    void fp16OverflowsSkipStepsAndBackOffUntilTheScaleFits(@TempDir Path dir) throws Exception {
        LanguageModel model = Models.create(TrainerTest.tinyModel(), new Generator(3));
        Map<String, Tensor> initial = new java.util.HashMap<>();
        model.stateDict().forEach((k, v) -> initial.put(k, v.copy()));
        TrainerTest.Events events = new TrainerTest.Events();
        var scaler = new dev.tessera.nn.optim.GradScaler(0x1p24, 2, 0.5, 2000); // gradients past F16's 65504: the first steps overflow
        new Trainer(model, TrainerTest.data(), TrainerTest.config(12).withDtype("fp16"), dir, events).withLossScaler(scaler).run(false, 1);
        assertEquals(1, events.events.size(), events.events.toString());
        assertEquals("fp16: a gradient overflowed at step 1; step skipped, loss scale now 8388608", events.events.get(0));
        model.stateDict().forEach((k, v) -> assertArrayEquals(initial.get(k).toFloatArray(), v.toFloatArray(), k + " must not move"));
        events.events.clear();
        Trainer rest = new Trainer(model, TrainerTest.data(), TrainerTest.config(12).withDtype("fp16"), dir.resolve("rest"), events)
                .withLossScaler(scaler);
        rest.run(false);
        double scale = scaler.scale();
        assertTrue(scale >= 0x1p16 && events.events.size() < 11, "backed off to a scale that fits: " + scale + ", " + events.events);
        assertEquals(23 - Math.getExponent(scale), events.events.size(), "one halving per skipped step: " + events.events);
        assertTrue(events.losses.get(events.losses.size() - 1) < events.losses.get(0), "the good steps still train: " + events.losses);
        String csv = Files.readString(dir.resolve("rest/metrics.csv"));
        assertTrue(csv.contains("NaN"), "a skipped step's gradient norm is NaN in metrics.csv");
    }

    private static Map<String, Tensor> trainFp16(Path dir, long seed, long steps, long stopAt, boolean resume) throws Exception {
        LanguageModel model = Models.create(TrainerTest.tinyModel(), new Generator(seed));
        run(dir, "fp16", steps, stopAt, resume, model);
        return model.stateDict();
    }

    @Test
    void aStateWrittenBeforeDtypeReadsAsFp32(@TempDir Path dir) throws Exception {
        run(dir, "fp32", 5, 5, false, Models.create(TrainerTest.tinyModel(), new Generator(2)));
        Checkpoints.Checkpoint ck = new Checkpoints(dir.resolve("checkpoints"), 3).latest().orElseThrow();
        Path file = ck.path().resolve(Checkpoints.STATE);
        ObjectNode o = (ObjectNode) JsonFiles.JSON.readTree(Files.readString(file));
        ((ObjectNode) o.get("train_config")).remove("dtype");
        Files.writeString(file, o.toString());
        assertEquals("fp32", TrainState.read(ck).config().dtype());
        var e = assertThrows(IllegalArgumentException.class, () -> TrainerTest.config(5).withDtype("int8"));
        assertTrue(e.getMessage().startsWith("train: unknown --dtype 'int8'"), e.getMessage());
    }
}
