package dev.tessera.models.cli;

import static dev.tessera.models.cli.TrainRunsTest.assertFails;
import static dev.tessera.models.cli.TrainRunsTest.assertOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera train --dtype} (G9): recorded in the run's checkpoints, kept by --resume, another one refused. */
class TrainDtypeTest {
    @TempDir
    Path dir;

    private CliErrorsTest.Result train(String... more) throws IOException {
        Path data = dir.resolve("one.txt");
        if (!Files.exists(data)) {
            Files.writeString(data, "the quick brown fox jumps over a lazy dog\n".repeat(40));
            Files.writeString(dir.resolve("model.json"), ModelConfig.llama(256, 16, 1, 16, 2, 2, 32).toJson());
        }
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model-config", dir.resolve("model.json").toString(), "--data",
                data.toString(), "--runs-dir", dir.resolve("runs").toString(), "--cache-dir", dir.resolve("cache").toString(),
                "--eval-every", "2", "--checkpoint-every", "2", "--eval-batches", "1", "--batch-size", "2", "--sample-tokens", "0"));
        args.addAll(List.of(more));
        if (!args.contains("--name")) {
            args.addAll(List.of("--name", "r"));
        }
        return CliErrorsTest.run(args.toArray(String[]::new));
    }

    /** train_config.dtype of the run's newest checkpoint. */
    private String recordedDtype() throws IOException {
        try (Stream<Path> steps = Files.list(dir.resolve("runs/r/checkpoints"))) {
            Path newest = steps.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().reduce((a, b) -> b).orElseThrow();
            String state = Files.readString(newest.resolve("state.json"));
            var m = java.util.regex.Pattern.compile("\"dtype\" : \"(\\w+)\"").matcher(state);
            assertTrue(m.find(), state);
            return m.group(1);
        }
    }

    @Test
    void theRunKeepsItsDtypeOnResume() throws IOException {
        assertFails(train("--steps", "2", "--dtype", "int8"), "unknown --dtype 'int8'");
        assertOk(train("--steps", "2", "--dtype", "bf16"));
        assertEquals("bf16", recordedDtype());
        assertOk(train("--steps", "4", "--resume"));
        assertEquals("bf16", recordedDtype(), "a resume without --dtype keeps the run's");
        assertFails(train("--steps", "6", "--resume", "--dtype", "fp16"), "--dtype fp16 (the run has bf16)");
        assertFails(train("--steps", "6", "--resume", "--dtype", "fp32"), "--dtype fp32 (the run has bf16)");
        CliErrorsTest.Result bench = CliErrorsTest.run("bench", "train", "--dtype", "fp8", "--steps", "1");
        assertNotEquals(0, bench.code());
        assertTrue(bench.err().contains("unknown --dtype 'fp8'"), bench.err());
    }

    /** Losses (column 2 of metrics.csv) of run {@code name}. */
    private List<String> losses(String name) throws IOException {
        return Files.readAllLines(dir.resolve("runs").resolve(name).resolve("metrics.csv")).stream().skip(1).map(l -> l.split(",")[1]).toList();
    }

    @Test
    void fp16OnTheSimulatedDeviceMatchesTheCpuBitForBit() throws IOException {
        assertOk(train("--steps", "2", "--dtype", "fp16"));
        assertOk(train("--steps", "2", "--dtype", "fp16", "--device", "sim", "--name", "s"));
        assertEquals(losses("r"), losses("s"));
        assertEquals(2, losses("r").size());
    }
}
