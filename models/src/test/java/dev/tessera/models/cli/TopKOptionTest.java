package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera train --attention topk --attention-topk K}: the option's one-line errors. */
class TopKOptionTest {

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
