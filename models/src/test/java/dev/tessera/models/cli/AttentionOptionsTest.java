package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tessera train --attention KIND} and the options of single kinds ({@code --attention-window N}
 * for sliding_window, {@code --attention-topk K} for topk): names and one-line errors.
 */
class AttentionOptionsTest {

    /** Every kind is named by its lower-case constant, and the unknown-kind error lists them all, so a new kind needs no edit there. */
    @Test
    void everyKindIsNamedAndAnUnknownOneListsThemAll(@TempDir Path dir) {
        var r = run("train", "--attention", "quantum", "--runs-dir", dir.toString(), "--data", dir.toString());
        assertOneLineError(r, "tessera: train: unknown --attention 'quantum' (");
        for (AttentionKind k : AttentionKind.values()) {
            String name = k.name().toLowerCase(Locale.ROOT);
            assertEquals(k, TrainCommand.parseKind(name));
            assertTrue(r.err().contains(name), r.err());
        }
        assertTrue(run("train", "--help").out().contains("sliding_window"), "--help lists the kinds");
    }

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

    @Test
    void topKOptionErrors(@TempDir Path dir) {
        String runs = dir.toString();
        assertOneLineError(run("train", "--attention", "topk", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention topk needs --attention-topk N with N >= 1, got none");
        assertOneLineError(run("train", "--attention", "topk", "--attention-topk", "0", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention topk needs --attention-topk N with N >= 1, got 0");
        assertOneLineError(run("train", "--attention", "sliding_window", "--attention-window", "4", "--attention-topk", "4", "--runs-dir",
                runs, "--data", runs), "tessera: train: --attention-topk needs --attention topk, got sliding_window");
        assertOneLineError(run("train", "--attention-topk", "4", "--runs-dir", runs, "--data", runs),
                "tessera: train: --attention-topk needs --attention topk, got softmax");
        assertOneLineError(run("train", "--attention", "topk", "--attention-topk", "many"),
                "tessera: Invalid value for option '--attention-topk'");
    }
}
