package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.cli.Tessera;
import dev.tessera.models.train.MaskedLm;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** I3 trained: BERT's 80/10/10 masking, and {@code tessera train} / {@code eval} on a tiny encoder. */
class EncoderTrainingTest {

    /** Over 40,000 positions: 15% selected, of those 80% [MASK], 10% another token, 10% unchanged; EOD never selected. */
    @Test
    void maskingFollowsBertsProportions() {
        int n = 40_000;
        int vocab = 50;
        int eod = 7;
        Tensor ids = Tensor.randint(new Generator(3), 0, vocab, DType.I64, 8, n / 8);
        MaskedLm mlm = new MaskedLm(vocab, eod, 0.15, 11);
        MaskedLm.Masked m = mlm.mask(ids, 0);
        long[] x = ids.toLongArray();
        long[] in = m.inputs().toLongArray();
        long[] y = m.labels().toLongArray();
        int selected = 0;
        int masked = 0;
        int replaced = 0;
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] == Losses.IGNORE_INDEX) {
                assertEquals(x[i], in[i], "an unselected position changed at " + i);
                continue;
            }
            assertNotEquals(eod, x[i], "EOD selected at " + i);
            assertEquals(x[i], y[i], "the label is the original token");
            selected++;
            if (in[i] == vocab) {
                masked++;
            } else if (in[i] != x[i]) {
                replaced++;
                assertTrue(in[i] >= 0 && in[i] < vocab, "random token outside the ordinary ids");
            } else {
                kept++;
            }
        }
        double ordinary = n * (1 - 1.0 / vocab);
        assertEquals(0.15, selected / ordinary, 0.01, "selection rate");
        assertEquals(0.8, (double) masked / selected, 0.03, "[MASK] share");
        // a random replacement equals the original 1 time in 50 and counts as kept
        assertEquals(0.1 * 49 / 50, (double) replaced / selected, 0.02, "random share");
        assertEquals(0.1 + 0.1 / 50, (double) kept / selected, 0.02, "unchanged share");
        assertTrue(Arrays.equals(in, mlm.mask(ids, 0).inputs().toLongArray()), "the same stream masks the same way");
        assertTrue(!Arrays.equals(in, mlm.mask(ids, 1).inputs().toLongArray()), "another batch masks differently");
    }

    @Test
    void aBatchWithoutSelectionStillHasOneLabel() {
        MaskedLm mlm = new MaskedLm(10, 9, 0.001, 1);
        MaskedLm.Masked m = mlm.mask(Tensor.of(new long[] {9, 3, 4}, 1, 3), 0);
        assertTrue(Arrays.equals(new long[] {Losses.IGNORE_INDEX, 3, Losses.IGNORE_INDEX}, m.labels().toLongArray()),
                Arrays.toString(m.labels().toLongArray()));
        assertEquals(10, m.inputs().toLongArray()[1]);
    }

    /** {@code tessera train} on a tiny BERT config: the masked-LM loss falls over 30 steps; eval reads the run. */
    @Test
    void cliTrainsAnEncoderAndTheLossDrops(@TempDir Path dir) throws IOException {
        Path run = train(dir, "--model-config", bertConfig(dir).toString(), "--steps", "30", "--eval-every", "30", "--checkpoint-every", "30");
        List<String> rows = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(31, rows.size(), "header + 30 steps");
        double first = meanLoss(rows.subList(1, 6));
        double last = meanLoss(rows.subList(26, 31));
        assertTrue(last < first - 2.0, "masked-LM loss did not drop: first 5 steps " + first + ", last 5 " + last);
        ModelConfig saved = ModelConfig.fromJson(Files.readString(run.resolve("config.json")));
        assertEquals(ModelConfig.Architecture.BERT, saved.architecture());
        assertEquals(257, saved.vocabSize(), "256 byte ids + [MASK]");
        StringWriter out = new StringWriter();
        assertEquals(0, run("eval", out, "--checkpoint", run.toString(), "--batches", "1", "--batch-size", "2", "--cache-dir",
                dir.resolve("cache").toString()));
        assertTrue(out.toString().contains("val_mlm_loss="), out.toString());
        StringWriter err = new StringWriter();
        assertEquals(2, run("generate", err, "--checkpoint", run.toString(), "--prompt", "ab"));
        assertTrue(err.toString().endsWith("tessera: the model is a BERT encoder (masked-LM); it does not generate text (tessera eval scores"
                + " it)\n") && err.toString().lines().noneMatch(l -> l.startsWith("ab")), err.toString());
    }

    @Test
    void causalOnlyAttentionIsRefusedForTheEncoder(@TempDir Path dir) throws IOException {
        StringWriter err = new StringWriter();
        int code = run("train", err, "--model-config", bertConfig(dir).toString(), "--attention", "average", "--runs-dir",
                dir.resolve("runs").toString(), "--data", data(dir).toString(), "--cache-dir", dir.resolve("cache").toString());
        assertEquals(2, code);
        assertEquals("tessera: bert: --attention average is causal-only; an encoder needs a kind that attends both ways (e.g. softmax)",
                err.toString().strip());
    }

    @Test
    void modelBertContradictingALlamaConfigIsOneLine(@TempDir Path dir) throws IOException {
        Path llama = Files.writeString(dir.resolve("llama.json"), ModelConfig.llama(256, 16, 1, 16, 2, 2, 32).toJson());
        StringWriter err = new StringWriter();
        int code = run("train", err, "--model", "bert", "--model-config", llama.toString(), "--runs-dir", dir.resolve("runs").toString());
        assertEquals(2, code);
        assertTrue(err.toString().strip().startsWith("tessera: train: --model bert contradicts --model-config"), err.toString());
    }

    private static Path bertConfig(Path dir) throws IOException {
        return Files.writeString(dir.resolve("bert.json"), ModelConfig.bert(257, 16, 1, 32, 2, 64).toJson());
    }

    private static Path data(Path dir) throws IOException {
        StringBuilder text = new StringBuilder();
        Generator g = new Generator(5);
        while (text.length() < 3000) { // words from a 6-letter alphabet: what a masked letter is, is learnable
            text.append((char) ('a' + g.nextLong(6))).append(g.nextLong(5) == 0 ? ' ' : "");
        }
        return Files.writeString(dir.resolve("data.txt"), text);
    }

    private static Path train(Path dir, String... options) throws IOException {
        String[] common = {"--data", data(dir).toString(), "--runs-dir", dir.resolve("runs").toString(), "--cache-dir",
                dir.resolve("cache").toString(), "--name", "bert", "--eval-batches", "1", "--batch-size", "4", "--lr", "1e-2",
                "--warmup", "4", "--sample-tokens", "5"};
        String[] args = Arrays.copyOf(common, common.length + options.length);
        System.arraycopy(options, 0, args, common.length, options.length);
        StringWriter err = new StringWriter();
        StringWriter out = new StringWriter();
        int code = run("train", out, err, args);
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("sample: none (an encoder does not generate text)"), out.toString());
        return dir.resolve("runs/bert");
    }

    private static int run(String command, StringWriter sink, String... args) {
        return run(command, sink, sink, args);
    }

    private static int run(String command, StringWriter out, StringWriter err, String... args) {
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        return cl.execute(all);
    }

    private static double meanLoss(List<String> rows) {
        return rows.stream().mapToDouble(r -> Double.parseDouble(r.split(",")[1])).average().orElseThrow();
    }
}
