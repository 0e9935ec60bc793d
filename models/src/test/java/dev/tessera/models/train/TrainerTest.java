package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.data.TokenizedCorpus;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop's promises: exact resume, spike rollback, no poisoned checkpoint, files written. */
class TrainerTest {
    static final int T = 16;

    static ModelConfig tinyModel() {
        return ModelConfig.llama(256, T, 2, 32, 4, 2, 64);
    }

    /** Repetitive "documents" the model can learn quickly. */
    static PackedDataset data() {
        Generator g = new Generator(5);
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < 60; d++) {
            int len = 20 + (int) g.nextLong(40);
            int[] doc = new int[len];
            int base = 'a' + (int) g.nextLong(5);
            for (int i = 0; i < len; i++) {
                doc[i] = base + (i % 7);
            }
            docs.add(doc);
        }
        return new PackedDataset(TokenizedCorpus.of(docs, 256, 255), PackedDataset.Config.of(T, 11));
    }

    static TrainConfig config(long steps) {
        return new TrainConfig(steps, 4, 2, "adamw", 1e-2, 1e-3, 3, 0.1, 1.0, 1e-4, 5, 2, 5, 3, 7, 0, 10, 3);
    }

    static final class Events implements Trainer.Listener {
        final List<String> events = new ArrayList<>();
        final List<Double> losses = new ArrayList<>();

        @Override
        public void onStep(long step, long total, double loss, double lr, double gradNorm, double tokensPerSecond) {
            losses.add(loss);
        }

        @Override
        public void onValidation(long step, double valLoss) {
        }

        @Override
        public void onEvent(String message) {
            events.add(message);
        }
    }

    static Map<String, Tensor> train(Path runDir, long seed, long steps, long stopAt, boolean resume) throws Exception {
        LanguageModel model = Models.create(tinyModel(), new Generator(seed));
        Trainer trainer = new Trainer(model, data(), config(steps), runDir, new Events());
        trainer.run(resume, stopAt);
        return model.stateDict();
    }

    @Test
    void twentyStepsStraightEqualTenPlusResumePlusTenBitwise(@TempDir Path dir) throws Exception {
        Map<String, Tensor> straight = train(dir.resolve("straight"), 1, 20, 20, false);
        train(dir.resolve("resumed"), 1, 20, 10, false);
        // a fresh process would rebuild the model from another seed: every bit must come from the checkpoint
        Map<String, Tensor> resumed = train(dir.resolve("resumed"), 99, 20, 20, true);
        assertEquals(straight.keySet(), resumed.keySet());
        for (String name : straight.keySet()) {
            assertArrayEquals(straight.get(name).toFloatArray(), resumed.get(name).toFloatArray(), name);
        }
        Path run = dir.resolve("resumed");
        assertTrue(Files.exists(run.resolve("loss.png")));
        assertTrue(Files.readAllLines(run.resolve("metrics.csv")).size() == 21, "header + 20 rows (10 + 10 after resume)");
        assertTrue(Files.list(run.resolve("tensorboard")).findAny().isPresent());
    }

    @Test
    void resumeAfterACrashCutsTheHistoryBackToTheCheckpointAndPlotsAllOfIt(@TempDir Path dir) throws Exception {
        train(dir, 1, 10, 8, false); // metrics for steps 1-8, checkpoints at 5 only
        Trainer resumed = new Trainer(Models.create(tinyModel(), new Generator(1)), data(), config(10), dir, new Events());
        resumed.run(true);
        List<String> rows = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(MetricsLog.HEADER, rows.get(0));
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 10).mapToObj(Long::toString).toList(),
                rows.stream().skip(1).map(r -> r.substring(0, r.indexOf(','))).toList());
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 10).mapToObj(s -> (double) s).toList(), resumed.plottedTrainSteps(),
                "loss.png shows the whole run");
    }

    @Test
    void theLossFallsAndValidationRuns(@TempDir Path dir) throws Exception {
        Events events = new Events();
        LanguageModel model = Models.create(tinyModel(), new Generator(3));
        new Trainer(model, data(), config(30), dir, events).run(false);
        double first = events.losses.get(0);
        double last = events.losses.get(events.losses.size() - 1);
        assertTrue(last < 0.5 * first, "loss " + first + " -> " + last);
    }

    @Test
    void aLossSpikeRollsBackAndSkipsTheBatches(@TempDir Path dir) throws Exception {
        // a hair-trigger spike factor: any loss above the recent median counts, so rollbacks must happen
        TrainConfig c = config(30);
        TrainConfig touchy = new TrainConfig(c.steps(), c.batchSize(), c.gradAccum(), c.optimizer(), c.lr(), c.minLr(), c.warmup(),
                c.weightDecay(), c.clip(), c.zLoss(), c.evalEvery(), c.evalBatches(), c.checkpointEvery(), c.keepCheckpoints(), c.seed(),
                1.0001, 3, 2);
        Events events = new Events();
        Trainer trainer = new Trainer(Models.create(tinyModel(), new Generator(3)), data(), touchy, dir, events);
        trainer.run(false);
        assertEquals(30, trainer.step());
        assertTrue(events.events.stream().anyMatch(e -> e.contains("rolled back to step") && e.contains("skipped")), events.events.toString());
        String state = new Checkpoints(dir.resolve("checkpoints"), 3).latest().orElseThrow().state();
        assertTrue(state.contains("\"data_offset\" : ") && !state.contains("\"data_offset\" : 0"), state);
        // the steps redone after each rollback replace the abandoned ones: one metrics row per step
        assertEquals(java.util.stream.LongStream.rangeClosed(1, 30).mapToObj(Long::toString).toList(),
                Files.readAllLines(dir.resolve("metrics.csv")).stream().skip(1).map(r -> r.substring(0, r.indexOf(','))).toList());
    }

    /** Training data whose batch at one index is garbage: random targets the model cannot predict. */
    record PoisonedAt(PackedDataset real, long badIndex) implements dev.tessera.models.data.BatchSource {
        @Override
        public PackedDataset.Batch batch(long index, int batchSize) {
            PackedDataset.Batch b = real.batch(index, batchSize);
            if (index != badIndex) {
                return b;
            }
            Tensor noise = Tensor.randint(new Generator(index), 0, 255, dev.tessera.tensor.DType.I64, b.targets().shape());
            return new PackedDataset.Batch(b.step(), b.inputs(), noise, b.documentIds());
        }

        @Override
        public PackedDataset.Batch validationBatch(int index, int batchSize) {
            return real.validationBatch(index, batchSize);
        }

        @Override
        public int sequenceLength() {
            return real.sequenceLength();
        }
    }

    @Test
    void anInjectedBadBatchIsRolledBackAndSkipped(@TempDir Path dir) throws Exception {
        TrainConfig c = config(40);
        // grad accumulation 2: training step s reads data indices 2s and 2s+1; poison step 25's first micro-batch
        TrainConfig watchful = new TrainConfig(c.steps(), c.batchSize(), c.gradAccum(), c.optimizer(), c.lr(), c.minLr(), c.warmup(),
                c.weightDecay(), c.clip(), c.zLoss(), c.evalEvery(), c.evalBatches(), c.checkpointEvery(), c.keepCheckpoints(), c.seed(),
                1.5, 10, 3);
        Events events = new Events();
        Trainer trainer = new Trainer(Models.create(tinyModel(), new Generator(3)), new PoisonedAt(data(), 50), watchful, dir, events);
        trainer.run(false);
        assertEquals(40, trainer.step());
        assertTrue(events.events.stream().anyMatch(e -> e.startsWith("loss spike at step 25") && e.contains("rolled back to step 25")
                && e.contains("skipped 1 data batches")), events.events.toString());
        // the spiked step was never applied: every loss reported after warm-up stays on the learned level
        assertTrue(events.losses.subList(20, events.losses.size()).stream().allMatch(l -> l < 2),
                "the poisoned batch never reached the optimizer: " + events.losses);
    }

    @Test
    void divergenceStopsWithoutWritingAPoisonedCheckpoint(@TempDir Path dir) throws Exception {
        TrainConfig c = config(40);
        TrainConfig wild = new TrainConfig(c.steps(), c.batchSize(), c.gradAccum(), "sgd", 1e38, 1e37, 0, 0, 0, 0, 5, 1, 5, 3, 7, 0, 10, 3);
        Trainer trainer = new Trainer(Models.create(tinyModel(), new Generator(3)), data(), wild, dir, new Events());
        var e = assertThrows(Trainer.DivergedException.class, () -> trainer.run(false));
        assertTrue(e.getMessage().startsWith("train: "), e.getMessage());
        var latest = new Checkpoints(dir.resolve("checkpoints"), 3).latest();
        if (latest.isPresent()) {
            assertTrue(latest.get().step() <= trainer.step());
            for (Tensor t : latest.get().model().values()) {
                for (float v : t.toFloatArray()) {
                    assertTrue(Float.isFinite(v), "checkpointed weights are finite");
                }
            }
        }
    }

    @Test
    void resumingWithoutCheckpointsOrOverwritingARunIsAnError(@TempDir Path dir) throws Exception {
        var none = assertThrows(IllegalArgumentException.class, () -> train(dir.resolve("empty"), 1, 10, 10, true));
        assertTrue(none.getMessage().startsWith("train: --resume given but "), none.getMessage());
        train(dir.resolve("done"), 1, 5, 5, false);
        var again = assertThrows(IllegalArgumentException.class, () -> train(dir.resolve("done"), 1, 5, 5, false));
        assertTrue(again.getMessage().contains("already has checkpoints; pass --resume"), again.getMessage());
    }
}
