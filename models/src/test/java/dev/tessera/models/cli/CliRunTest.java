package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.train.Checkpoints;
import dev.tessera.tensor.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands that load a run say what they loaded, and their errors say which command and file. */
class CliRunTest {
    /** A byte-level Llama with a 32-token context. */
    static final ModelConfig TINY = ModelConfig.llama(256, 32, 1, 16, 2, 2, 32);

    /** A run directory as train leaves it: config.json and complete checkpoints at {@code steps}. */
    static Path tinyRun(Path dir, long... steps) throws Exception {
        Path run = dir.resolve("runs/tiny");
        var model = Models.create(TINY, new Generator(1));
        for (long step : steps) {
            new Checkpoints(run.resolve("checkpoints"), 2).save(step, model.stateDict(), Map.of(), "{}");
        }
        Files.writeString(run.resolve("config.json"), TINY.toJson());
        return run;
    }

    static Path textFiles(Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        for (int i = 0; i < 40; i++) {
            Files.writeString(data.resolve("d" + i + ".txt"), ("document " + i + " says hello to the tiny model. ").repeat(4));
        }
        return data;
    }

    @Test
    void evalSampleAndGenerateSayWhichCheckpointTheyLoaded(@TempDir Path dir) throws Exception {
        Path run = tinyRun(dir, 2, 4);
        Path step4 = run.resolve("checkpoints/step-00000004");
        Path step2 = run.resolve("checkpoints/step-00000002");
        var g = run("generate", "--checkpoint", run.toString(), "--prompt", "hi", "--max-tokens", "3");
        assertEquals(0, g.code(), g.err());
        assertTrue(g.err().startsWith("checkpoint step 4: " + step4 + "\n"), g.err());
        assertTrue(g.out().startsWith("hi"), "stdout holds only the text: " + g.out());
        var s = run("sample", "--checkpoint", step2.toString(), "--tokens", "3");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().startsWith("checkpoint step 2: " + step2 + "\n"), s.err());
        var e = run("eval", "--checkpoint", run.toString(), "--data", textFiles(dir).toString(), "--cache-dir", dir.resolve("cache").toString(),
                "--batches", "1", "--batch-size", "1");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("checkpoint step 4: " + step4 + "\n"), e.out());
        assertTrue(e.out().contains("val_loss="), e.out());
        Path hf = dir.resolve("hf");
        dev.tessera.models.hf.HuggingFaceCheckpoint.save(Models.create(TINY, new Generator(1)), hf);
        var h = run("generate", "--hf", hf.toString(), "--prompt", "hi", "--max-tokens", "2");
        assertEquals(0, h.code(), h.err());
        assertTrue(h.err().startsWith("checkpoint (Hugging Face): " + hf + "\n"), h.err());
    }

    @Test
    void loadErrorsNameTheCommandAndTheFile(@TempDir Path dir) throws Exception {
        Path notARun = Files.createDirectories(dir.resolve("nothing"));
        assertOneLineError(run("eval", "--checkpoint", notARun.toString()), "tessera: eval: " + notARun + " has no config.json");
        assertOneLineError(run("sample", "--checkpoint", notARun.toString()), "tessera: sample: " + notARun + " has no config.json");
        Path run = tinyRun(dir, 2, 4);
        Path weights = run.resolve("checkpoints/step-00000004").resolve(Checkpoints.MODEL);
        Files.write(weights, new byte[0]);
        assertOneLineError(run("eval", "--checkpoint", run.toString()),
                "tessera: eval: safetensors: " + weights + ": file of 0 bytes is shorter than the 8-byte header length");
        Files.delete(weights);
        var missing = run("generate", "--checkpoint", run.toString(), "--prompt", "x");
        assertEquals(1, missing.code(), "an I/O error, not a usage error");
        assertEquals("tessera: no such file: " + weights, missing.err().strip());
    }

    @Test
    void generateKeepsGoingPastTheContext(@TempDir Path dir) throws Exception {
        Path run = tinyRun(dir, 2);
        var g = run("generate", "--checkpoint", run.toString(), "--prompt", "a long prompt of more than thirty-two bytes, cropped",
                "--max-tokens", "100", "--temperature", "0", "--repetition-penalty", "1");
        assertEquals(0, g.code(), g.err());
        String summary = g.err().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(summary.startsWith("100 tokens at "), g.err());
        assertTrue(summary.contains("the 32-token context filled, so it was cut back to the newest 16 tokens 6 times"), summary);
        assertTrue(g.err().contains("note: the prompt has 52 tokens; the model sees the last 32"), g.err());
    }

    @Test
    void noCommandPrintsUsageToStderrAndExitsTwo() {
        for (String[] args : new String[][] {{}, {"tokenizer"}, {"bench"}}) {
            var r = run(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertTrue(r.err().startsWith("Usage: tessera " + String.join(" ", args)), r.err());
            assertEquals("", r.out());
        }
    }
}
