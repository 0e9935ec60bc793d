package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.models.cli.Tessera;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A two-step {@code tessera train} run of a tiny Llama (V 256, T 16, L 1, C 16, NH 2), or a given model config, on seeded
 * text, for the tests that check a component switched on from the command line.
 */
final class CliTrainRun {
    private CliTrainRun() {}

    /** Runs {@code tessera train <options> ...} in dir, asserts it succeeded, and returns the run folder. */
    static Path train(Path dir, long seed, String... options) throws IOException {
        return train(dir, seed, ModelConfig.llama(256, 16, 1, 16, 2, 2, 32), options);
    }

    /** {@link #train(Path, long, String...)} with the model config {@code model} (a tiny BERT, say) in place of the Llama. */
    static Path train(Path dir, long seed, ModelConfig model, String... options) throws IOException {
        StringBuilder text = new StringBuilder();
        Generator g = new Generator(seed);
        while (text.length() < 1500) {
            text.append((char) ('a' + g.nextLong(6))).append(g.nextLong(5) == 0 ? ' ' : "");
        }
        Path data = Files.writeString(dir.resolve("data.txt"), text);
        Path config = Files.writeString(dir.resolve("model.json"), model.toJson());
        StringWriter err = new StringWriter();
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        String[] common = {"train", "--model-config", config.toString(), "--data", data.toString(), "--runs-dir",
                dir.resolve("runs").toString(), "--cache-dir", dir.resolve("cache").toString(), "--name", "r", "--steps", "2",
                "--eval-every", "2", "--checkpoint-every", "2", "--eval-batches", "1", "--batch-size", "2", "--sample-tokens", "0"};
        String[] args = java.util.Arrays.copyOf(common, common.length + options.length);
        System.arraycopy(options, 0, args, common.length, options.length);
        assertEquals(0, cl.execute(args), err.toString());
        return dir.resolve("runs/r");
    }

    /** {@link #train}, then the model config the run saved in its config.json. */
    static ModelConfig trainedConfig(Path dir, long seed, String... options) throws IOException {
        return ModelConfig.fromHuggingFace(train(dir, seed, options).resolve("config.json"));
    }
}
