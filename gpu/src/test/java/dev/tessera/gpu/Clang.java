package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * clang-19 for the tests that compile kernels without a GPU. Where it is missing those tests are
 * skipped with the reason printed, except under {@code CI=true}, where they fail: CI machines are
 * set up fresh and must install it.
 */
final class Clang {
    static final String CLANG = "clang-19";
    static final String MISSING = CLANG + " missing: apt-get install " + CLANG;
    private static volatile Boolean present;

    private Clang() {}

    /** The skip reason for a missing compiler; fails the test instead when {@code ci} is "true". */
    static String missing(String ci) {
        if ("true".equalsIgnoreCase(ci)) {
            fail(MISSING);
        }
        return MISSING;
    }

    /** Aborts (skips) the calling test, or fails it under CI, when clang-19 is not on the PATH. */
    static void require(String what) {
        Boolean p = present;
        if (p == null) {
            p = run(List.of(CLANG, "--version"), 30).exit() == 0;
            present = p;
        }
        if (!p) {
            String reason = missing(System.getenv("CI"));
            System.err.println("[" + what + " skipped] " + reason);
            Assumptions.abort(reason);
        }
    }

    /** A finished process: exit status (-1 when it could not start) and its merged output. */
    record Result(int exit, String log) {}

    static Result run(List<String> command, int timeoutSeconds) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), command.get(0) + " timed out");
            return new Result(p.exitValue(), log);
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    /** Clang's first error line, or the first line when none says "error". */
    static String firstError(String log) {
        return log.lines().filter(l -> l.contains("error:")).findFirst()
                .orElse(log.lines().findFirst().orElse("clang failed without output"));
    }

    /** Copies test resource {@code name} into {@code dir}. */
    static Path resource(String name, Path dir) {
        try (InputStream in = Clang.class.getResourceAsStream("/" + name)) {
            return Files.write(dir.resolve(name), in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
