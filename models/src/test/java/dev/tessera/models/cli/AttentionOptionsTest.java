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
 * {@code tessera train --attention KIND} and each kind's own options ({@code --attention-option window=N}
 * for sliding_window, {@code k=K} for topk): names and one-line errors.
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
    void optionErrorsNameTheKindAndItsValidOptions(@TempDir Path dir) {
        String runs = dir.toString();
        String[] where = {"--runs-dir", runs, "--data", runs};
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "sliding_window")),
                "tessera: train: --attention-option: attention sliding_window needs option window (options: window)");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "sliding-window", "--attention-option", "window=0")),
                "tessera: train: --attention-option: attention sliding_window: option window must be >= 1, got 0");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "sliding_window", "--attention-option", "window=wide")),
                "tessera: train: --attention-option: attention sliding_window: option window must be an integer, got 'wide'");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "softmax", "--attention-option", "window=4")),
                "tessera: train: --attention-option: attention softmax takes no options, got 'window'");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention-option", "window=4")),
                "tessera: train: --attention-option: attention softmax takes no options, got 'window'");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "topk", "--attention-option", "window=4")),
                "tessera: train: --attention-option: attention topk: unknown option 'window' (options: k)");
        assertOneLineError(run(CliErrorsTest.concat(where, "train", "--attention", "topk", "--attention-option", "k")),
                "tessera: Value for option option '--attention-option' (NAME=VALUE) should be in KEY=VALUE format");
    }
}
