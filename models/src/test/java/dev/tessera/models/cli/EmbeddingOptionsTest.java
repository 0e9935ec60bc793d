package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E6: {@code tessera train --embedding define --embedding-option NAME=VALUE}: names and one-line errors. */
class EmbeddingOptionsTest {

    @Test
    void errorsNameTheKindAndItsOptions(@TempDir Path dir) {
        String runs = dir.toString();
        assertOneLineError(run("train", "--runs-dir", runs, "--data", runs, "--embedding", "adaptive"),
                "tessera: train: --embedding: unknown kind 'adaptive' (kinds: define)");
        assertOneLineError(run("train", "--runs-dir", runs, "--data", runs, "--embedding-option", "dim=8"),
                "tessera: train: --embedding-option needs --embedding (kinds: define)");
        assertOneLineError(run("train", "--runs-dir", runs, "--data", runs, "--embedding", "define", "--embedding-option", "groups=2"),
                "tessera: train: embedding define: unknown option 'groups' (options: dim, depth, width, max_groups)");
        assertOneLineError(run("train", "--runs-dir", runs, "--data", runs, "--model", "bert", "--embedding", "define"),
                "tessera: ModelConfig: embedding define is for the causal decoders, not bert");
        assertTrue(run("train", "--help").out().contains("--embedding"), "--help names the option");
    }
}
