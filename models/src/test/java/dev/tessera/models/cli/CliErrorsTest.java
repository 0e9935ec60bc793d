package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives one line on stderr and a non-zero exit, never a stack trace. */
class CliErrorsTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static void assertOneLineError(Result r, String expectedStart) {
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith(expectedStart), err);
    }

    @Test
    void trainRejectsBadNumbersAndPaths(@TempDir Path dir) {
        String runs = dir.toString();
        assertOneLineError(run("train", "--steps", "0", "--runs-dir", runs, "--data", runs),
                "tessera: train: steps, batch size and grad accumulation must be positive, got 0");
        assertOneLineError(run("train", "--optimizer", "adagrad", "--runs-dir", runs, "--data", runs),
                "tessera: train: unknown optimizer 'adagrad'");
        assertOneLineError(run("train", "--data", dir.resolve("missing.txt").toString(), "--runs-dir", runs),
                "tessera: ");
        assertOneLineError(run("train", "--preset", "huge", "--runs-dir", runs), "tessera: ");
        assertOneLineError(run("train", "--attention", "quantum", "--runs-dir", runs, "--data", runs),
                "tessera: train: unknown --attention 'quantum'");
        assertOneLineError(run("train", "--steps", "ten"), "tessera: Invalid value for option '--steps'");
        assertOneLineError(run("train", "--device", "tpu"), "tessera: unknown device 'tpu' (expected cpu, cuda or sim)");
    }

    @Test
    void existingRunsEmptyCorporaAndBrokenCheckpoints(@TempDir Path dir) throws Exception {
        java.nio.file.Files.createDirectories(dir.resolve("runs/old"));
        java.nio.file.Files.writeString(dir.resolve("runs/old/metrics.csv"), "step\n");
        java.nio.file.Files.createDirectories(dir.resolve("empty"));
        String runs = dir.resolve("runs").toString();
        assertOneLineError(run("train", "--name", "old", "--runs-dir", runs, "--data", dir.resolve("empty").toString()),
                "tessera: train: " + dir.resolve("runs/old") + " exists and is not a Tessera run (no run.json); it is left alone");
        assertOneLineError(run("train", "--name", "old", "--runs-dir", runs, "--resume", "--overwrite"),
                "tessera: train: --resume and --overwrite contradict each other");
        assertOneLineError(run("train", "--name", "new", "--runs-dir", runs, "--data", dir.resolve("empty").toString()), "tessera: ");
        // a run whose config.json is not JSON, and one whose weights do not fit its config
        Path broken = dir.resolve("runs/broken");
        java.nio.file.Files.createDirectories(broken);
        java.nio.file.Files.writeString(broken.resolve("config.json"), "{ not json");
        assertOneLineError(run("generate", "--checkpoint", broken.toString(), "--prompt", "x"), "tessera: ");
        Path mismatched = dir.resolve("runs/mismatched");
        var small = dev.tessera.models.ModelConfig.llama(256, 16, 1, 16, 2, 2, 32);
        var big = dev.tessera.models.ModelConfig.llama(256, 16, 1, 32, 2, 2, 32);
        var model = dev.tessera.models.Models.create(small, new dev.tessera.tensor.Generator(1));
        new dev.tessera.models.train.Checkpoints(mismatched.resolve("checkpoints"), 2).save(1, model.stateDict(), java.util.Map.of(), "{}");
        java.nio.file.Files.writeString(mismatched.resolve("config.json"), big.toJson());
        assertOneLineError(run("generate", "--checkpoint", mismatched.toString(), "--prompt", "x"),
                "tessera: generate: " + mismatched.resolve("checkpoints/step-00000001/model.safetensors")
                        + ": loadStateDict: shape mismatch (given vs expected) for ");
    }

    @Test
    void infoNamesTheDevices() {
        Result r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("devices    cpu, sim") && l.contains("cuda ")), r.out());
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] cmd : new String[][] {{"train"}, {"eval"}, {"sample"}, {"generate"}, {"info"}, {"bench", "gemm"}, {"bench", "train"},
                {"tokenizer", "train"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Result r = run(args);
            assertEquals(0, r.code(), String.join(" ", cmd) + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: tessera " + String.join(" ", cmd)), r.out());
        }
    }

    @Test
    void benchAndUnknownCommands() {
        assertOneLineError(run("bench", "gemm", "--dtype", "f8"), "tessera: bench gemm: --dtype must be f32, f64, bf16 or f16, got f8");
        assertOneLineError(run("frobnicate"), "tessera: Unmatched argument at index 0: 'frobnicate'");
    }

    /** {@code head} followed by {@code tail}: a command line with options appended. */
    static String[] concat(String[] tail, String... head) {
        String[] all = java.util.Arrays.copyOf(head, head.length + tail.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }
}
