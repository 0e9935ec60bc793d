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
        assertOneLineError(run("train", "--device", "tpu"), "tessera: unknown device 'tpu' (expected cpu or cuda)");
    }

    @Test
    void benchAndUnknownCommands() {
        assertOneLineError(run("bench", "gemm", "--dtype", "f8"), "tessera: bench gemm: --dtype must be f32, f64, bf16 or f16, got f8");
        assertOneLineError(run("frobnicate"), "tessera: Unmatched argument at index 0: 'frobnicate'");
    }
}
