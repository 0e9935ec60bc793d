package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One process per run: a second JVM, or a second holder in this one, is refused with the run's name; a dead holder frees it. */
class RunLockTest {
    /** Child JVM: locks the run, says so, and waits to be killed. */
    public static void main(String[] args) throws Exception {
        RunLock lock = RunLock.acquire(Path.of(args[0]), "train");
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(60_000);
        lock.close();
    }

    @Test
    void aSecondProcessIsRefusedUntilTheFirstDies(@TempDir Path run) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), RunLockTest.class.getName(), run.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream()))) {
            assertEquals("locked", r.readLine());
            var e = assertThrows(IllegalStateException.class, () -> RunLock.acquire(run, "train"));
            assertEquals("train: run " + run + " is in use by another process (pid " + child.pid() + "); wait for it to finish or stop it"
                    + " first", e.getMessage());
        } finally {
            child.destroyForcibly().waitFor();
        }
        try (RunLock mine = RunLock.acquire(run, "train")) {
            var again = assertThrows(IllegalStateException.class, () -> RunLock.acquire(run, "train"), "a second holder in this JVM");
            assertTrue(again.getMessage().startsWith("train: run " + run + " is in use"), again.getMessage());
        }
        RunLock.acquire(run, "train").close(); // released on close
    }
}
