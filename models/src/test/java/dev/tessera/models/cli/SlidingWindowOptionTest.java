package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera train --attention sliding_window --attention-window N}: the option's one-line errors. */
class SlidingWindowOptionTest {

    @Test
    void windowOptionErrors(@TempDir Path dir) {
        String runs = dir.toString();
        assertOneLineError(run("train", "--attention", "sliding_window", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention sliding_window needs --attention-window N with N >= 1, got none");
        assertOneLineError(run("train", "--attention", "sliding-window", "--attention-window", "0", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention sliding_window needs --attention-window N with N >= 1, got 0");
        assertOneLineError(run("train", "--attention", "softmax", "--attention-window", "4", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention-window needs --attention sliding_window, got softmax");
        assertOneLineError(run("train", "--attention-window", "4", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention-window needs --attention sliding_window, got softmax");
        assertOneLineError(run("train", "--attention", "sliding_window", "--attention-window", "wide"),
                "tessera: Invalid value for option '--attention-window'");
    }

    /** The unknown-kind error lists every constant of AttentionKind, so a new kind needs no edit there. */
    @Test
    void unknownAttentionListsEveryKind(@TempDir Path dir) {
        var r = run("train", "--attention", "quantum", "--runs-dir", dir.toString(), "--data", dir.toString());
        assertOneLineError(r, "tessera: train: unknown --attention 'quantum' (");
        for (AttentionKind k : AttentionKind.values()) {
            assertTrue(r.err().contains(k.name().toLowerCase(Locale.ROOT)), r.err());
        }
        assertTrue(run("train", "--help").out().contains("sliding_window"), "--help lists the kinds");
    }
}
