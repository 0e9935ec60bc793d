package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.ModelConfig;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.PerceiverAttention;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B23 from the command line: {@code tessera train --attention perceiver_ar --attention-option latents=4}
 * trains a two-layer Llama, saves the kind and N in the run's config.json, samples a few tokens
 * after training (cached decoding with Perceiver AR's two caches), and {@code tessera eval} scores
 * the run on its last-N targets.
 */
class PerceiverArTrainTest {

    @Test
    void trainsSamplesAndEvaluates(@TempDir Path dir) throws IOException {
        Generator g = new Generator(3);
        StringBuilder text = new StringBuilder();
        while (text.length() < 2000) {
            text.append(TrainRunsTest.WORDS[(int) g.nextLong(TrainRunsTest.WORDS.length)]).append(' ');
        }
        Path data = Files.writeString(dir.resolve("one.txt"), text);
        Path config = Files.writeString(dir.resolve("model.json"), ModelConfig.llama(256, 16, 2, 16, 2, 2, 32).toJson());
        Path cache = dir.resolve("cache");
        CliErrorsTest.Result r = CliErrorsTest.run("train", "--model-config", config.toString(), "--data", data.toString(), "--runs-dir",
                dir.resolve("runs").toString(), "--cache-dir", cache.toString(), "--name", "r", "--steps", "3", "--eval-every", "3",
                "--eval-batches", "1", "--batch-size", "2", "--sample-tokens", "4", "--attention", "perceiver_ar", "--attention-option",
                "latents=4");
        TrainRunsTest.assertOk(r);
        Path run = dir.resolve("runs").resolve("r");
        ModelConfig saved = ModelConfig.fromJson(Files.readString(run.resolve("config.json")));
        assertEquals(AttentionKind.PERCEIVER_AR, saved.attentionKind());
        assertEquals(new PerceiverAttention.ArOptions(4), saved.attentionOptions());
        CliErrorsTest.Result e = CliErrorsTest.run("eval", "--checkpoint", run.toString(), "--batches", "1", "--batch-size", "1",
                "--cache-dir", cache.toString());
        TrainRunsTest.assertOk(e);
        assertTrue(e.out().contains("val_loss"), e.out());
    }
}
