package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Atomic checkpoints: only complete ones are visible, the last N are kept, a kill mid-save loses nothing. */
class CheckpointsTest {
    static Map<String, Tensor> weights(long seed, int n) {
        return Map.of("model.embed_tokens.weight", Tensor.randn(new Generator(seed), DType.F32, n, 64));
    }

    @Test
    void keepsTheLastNAndIgnoresIncompleteDirectories(@TempDir Path dir) throws Exception {
        Checkpoints ck = new Checkpoints(dir, 2);
        for (long step = 10; step <= 40; step += 10) {
            ck.save(step, weights(step, 4), Map.of("state.0.step", Tensor.scalar(step, DType.I64)), "{\"step\": " + step + "}");
        }
        assertEquals(List.of(30L, 40L), ck.complete().stream().map(Checkpoints.Checkpoint::step).toList());
        Files.createDirectories(dir.resolve("step-00000050")); // a crashed save that never wrote its marker
        Files.createDirectories(dir.resolve("step-00000060.tmp-1-2"));
        Checkpoints.Checkpoint latest = ck.latest().orElseThrow();
        assertEquals(40, latest.step());
        assertArrayEquals(weights(40, 4).get("model.embed_tokens.weight").toFloatArray(),
                latest.model().get("model.embed_tokens.weight").toFloatArray());
        assertEquals("{\"step\": 40}", latest.state());
    }

    @Test
    void aFailedWriteNamesTheStepAndTheFileAndLeavesNoDebris(@TempDir Path dir) throws Exception {
        Checkpoints ck = new Checkpoints(dir, 2).withWriteHook(file -> {
            if (file.getFileName().toString().equals(Checkpoints.OPTIMIZER)) {
                throw new java.io.IOException("No space left on device");
            }
        });
        var e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                () -> ck.save(5, weights(5, 4), Map.of(), "{\"step\": 5}"));
        assertEquals("checkpoint step 5: writing " + dir.resolve("step-00000005").resolve(Checkpoints.OPTIMIZER)
                + ": No space left on device", e.getMessage());
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList(), "the temporary directory is gone");
        }
    }

    /** Child JVM: saves bigger and bigger checkpoints forever, until killed. */
    public static void main(String[] args) throws Exception {
        Checkpoints ck = new Checkpoints(Path.of(args[0]), 2);
        for (long step = 1; ; step++) {
            ck.save(step, weights(step, 20000), Map.of(), "{\"step\": " + step + "}");
        }
    }

    @Test
    void killingAChildJvmMidSaveLeavesTheLastCompleteCheckpointLoadable(@TempDir Path dir) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                CheckpointsTest.class.getName(), dir.toString()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        Checkpoints ck = new Checkpoints(dir, 2);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ck.complete().size() < 3 && System.nanoTime() < deadline && child.isAlive()) {
            Thread.sleep(20);
        }
        // kill at an arbitrary point of a later save: a few ms into the next one
        Thread.sleep(7);
        child.destroyForcibly().waitFor();
        Checkpoints.Checkpoint latest = ck.latest().orElseThrow();
        assertTrue(latest.step() >= 2, "child made progress");
        Map<String, Tensor> model = latest.model();
        assertArrayEquals(weights(latest.step(), 20000).get("model.embed_tokens.weight").toFloatArray(),
                model.get("model.embed_tokens.weight").toFloatArray(), "the newest complete checkpoint is intact");
        assertEquals("{\"step\": " + latest.step() + "}", latest.state());
    }
}
