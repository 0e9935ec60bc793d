package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.cli.Tessera;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.models.train.RunDirectory;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.S4d;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E10 S4D and S5 in place of attention in Llama (a Mamba-free state-space LM: diagonal state spaces
 * stacked with SwiGLU MLPs, issue 17's "done when"): O(1)-state decoding equals the full forward,
 * generation from the state equals recomputation, it learns, config.json round trip, and the CLI
 * trains it and generates from its checkpoint.
 */
class StateSpaceModelTest {

    private static ModelConfig llama(String kind, Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of(kind, options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        LruModelTest.decodes(llama("s4d", Map.of("state", "8")),
                state -> assertArrayEquals(new int[] {2, 1, 32, 4}, state[0].shape(), "O(1): x is (B, 1, H, N/2) whatever the position"));
        LruModelTest.decodes(llama("s5", Map.of("state", "6")),
                state -> assertArrayEquals(new int[] {2, 1, 6}, state[0].shape(), "O(1): x is (B, 1, P) whatever the position"));
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(llama("s4d", Map.of("state", "8")), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    @Test
    void shortTrainingRunLowersTheLossS4d() {
        learns(llama("s4d", Map.of("state", "8")));
    }

    @Test
    void shortTrainingRunLowersTheLossS5() {
        learns(llama("s5", Map.of("state", "16")));
    }

    private static void learns(ModelConfig c) {
        LanguageModel m = Models.create(c, new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], c.mixer() + ": loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama("s4d", Map.of("state", "16", "dt_max", "0.05"));
        assertEquals("s4d", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new S4d.Options(16, 0.001, 0.05), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.log_A_real") && names.contains("model.layers.1.mixer.output_linear.weight")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        ModelConfig s5 = llama("s5", Map.of("state", "12"));
        assertEquals(s5, ModelConfig.fromJson(s5.toJson()));
        assertTrue(Models.create(s5, new Generator(1)).stateDict().keySet().contains("model.layers.1.mixer.Lambda_im"));
    }

    /**
     * {@code tessera train --mixer s4d} for 30 steps: the training loss falls; then {@code tessera generate}
     * from the checkpoint, greedy, prints what greedy recomputation from the same weights gives.
     */
    @Test
    void trainsFromTheCommandLineAndGeneratesFromTheCheckpoint(@TempDir Path dir) throws IOException {
        StringBuilder text = new StringBuilder();
        Generator g = new Generator(7);
        while (text.length() < 3000) { // words over a 6-letter alphabet
            text.append((char) ('a' + g.nextLong(6))).append(g.nextLong(5) == 0 ? ' ' : "");
        }
        Path data = Files.writeString(dir.resolve("data.txt"), text);
        Path config = Files.writeString(dir.resolve("model.json"), ModelConfig.llama(256, 16, 2, 16, 2, 2, 32).toJson());
        StringWriter err = new StringWriter();
        assertEquals(0, cli(new StringWriter(), err, "train", "--model-config", config.toString(), "--data", data.toString(), "--runs-dir",
                dir.resolve("runs").toString(), "--cache-dir", dir.resolve("cache").toString(), "--name", "ssm", "--steps", "30",
                "--eval-every", "30", "--checkpoint-every", "30", "--eval-batches", "1", "--batch-size", "4", "--lr", "1e-2", "--warmup", "4",
                "--sample-tokens", "0", "--mixer", "s4d", "--mixer-option", "state=16"), err.toString());
        Path run = dir.resolve("runs/ssm");
        assertEquals(MixerKind.Spec.of("s4d", Map.of("state", "16")), ModelConfig.fromHuggingFace(run.resolve("config.json")).mixer());
        List<String> rows = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(31, rows.size(), "header + 30 steps");
        double first = meanLoss(rows.subList(1, 6));
        double last = meanLoss(rows.subList(26, 31));
        assertTrue(last < first - 1.0, "loss did not drop: first 5 steps " + first + ", last 5 " + last);

        StringWriter out = new StringWriter();
        StringWriter genErr = new StringWriter();
        assertEquals(0, cli(out, genErr, "generate", "--checkpoint", run.toString(), "--prompt", "ab", "--max-tokens", "12",
                "--temperature", "0", "--repetition-penalty", "1"), genErr.toString());
        LanguageModel m = RunDirectory.loadModel(run, "test", new PrintWriter(new StringWriter()));
        int[] want = Fixtures.greedyByRecomputation(m, ByteTokenizer.INSTANCE.encode("ab"), 12);
        int eod = Arrays.stream(want).boxed().toList().indexOf(ByteTokenizer.EOD);
        String expected = "ab" + ByteTokenizer.INSTANCE.decode(eod < 0 ? want : Arrays.copyOf(want, eod));
        assertEquals(expected.replaceAll("\uFFFD$", ""), out.toString().lines().findFirst().orElseThrow());
        assertTrue(expected.substring(2).chars().allMatch(ch -> ch == ' ' || (ch >= 'a' && ch <= 'f')), "learnt the alphabet: " + expected);
    }

    private static int cli(StringWriter out, StringWriter err, String... args) {
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
