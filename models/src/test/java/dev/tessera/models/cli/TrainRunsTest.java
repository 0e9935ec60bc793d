package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.ModelConfig;
import dev.tessera.models.train.EventFiles;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tessera train} and {@code eval} on run directories, as a user drives them: one text file as
 * data, names that must stay inside --runs-dir, broken checkpoints, resume with the run's own model
 * and schedule, a second process on a live run, crash + resume histories and bad options. A model of
 * a few thousand parameters (context 16) keeps each run well under a second.
 */
class TrainRunsTest {
    static final String[] WORDS = "the quick brown fox jumps over a lazy dog and then runs far away into the dark forest".split(" ");

    @TempDir
    Path dir;
    Path data;
    Path config;
    Path runs;
    Path run;

    @BeforeEach
    void setUp() throws IOException {
        Generator g = new Generator(3);
        StringBuilder text = new StringBuilder();
        while (text.length() < 2000) {
            text.append(WORDS[(int) g.nextLong(WORDS.length)]).append(text.length() % 70 < 7 ? '\n' : ' ');
        }
        data = Files.writeString(dir.resolve("one.txt"), text);
        config = Files.writeString(dir.resolve("model.json"), ModelConfig.llama(256, 16, 1, 16, 2, 2, 32).toJson());
        runs = dir.resolve("runs");
        run = runs.resolve("r");
    }

    Map<String, String> options() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("--model-config", config.toString());
        o.put("--data", data.toString());
        o.put("--runs-dir", runs.toString());
        o.put("--cache-dir", dir.resolve("cache").toString());
        o.put("--name", "r");
        o.put("--steps", "4");
        o.put("--eval-every", "2");
        o.put("--checkpoint-every", "2");
        o.put("--eval-batches", "1");
        o.put("--batch-size", "2");
        o.put("--sample-tokens", "0");
        return o;
    }

    /** {@code tessera train} with the default options, each {@code "--opt", "value"} pair replacing one, and bare flags. */
    CliErrorsTest.Result train(String... changes) {
        Map<String, String> o = options();
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < changes.length; i++) {
            if (i + 1 < changes.length && !changes[i + 1].startsWith("--")) {
                o.put(changes[i], changes[++i]);
            } else {
                flags.add(changes[i]);
            }
        }
        List<String> args = new ArrayList<>(List.of("train"));
        o.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        args.addAll(flags);
        return CliErrorsTest.run(args.toArray(String[]::new));
    }

    static void assertOk(CliErrorsTest.Result r) {
        assertEquals(0, r.code(), r.err() + r.out());
    }

    static void assertFails(CliErrorsTest.Result r, String... mentions) {
        assertNotEquals(0, r.code(), r.out());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("tessera: "), err);
        for (String m : mentions) {
            assertTrue(err.contains(m), "mentions '" + m + "': " + err);
        }
    }

    /** Every file under {@code root} by relative path, with its bytes. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Arrays.toString(Files.readAllBytes(p)));
            }
        }
        return files;
    }

    static List<String> metricSteps(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.csv")).stream().skip(1).map(l -> l.substring(0, l.indexOf(','))).toList();
    }

    @Test
    void aSingleTextFileTrainsHoldingOutTheTailOfItsTokens() throws IOException {
        assertOk(train());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-00000004/COMPLETE")));
        List<String> rows = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(5, rows.size(), rows.toString());
        assertFalse(rows.get(2).split(",")[2].isEmpty(), "validated at step 2: " + rows.get(2));
    }

    @Test
    void tooLittleDataIsRefusedBeforeTheRunExists() throws IOException {
        Files.writeString(data, "twenty bytes of text"); // 20 tokens + EOD: one training row of 17, nothing left to validate on
        assertFails(train(), "train: ", "17");
        assertFalse(Files.exists(run), "nothing created");
    }

    @Test
    void evalUsesTheRunsOwnDataAndSaysSo() {
        assertOk(train());
        CliErrorsTest.Result r = CliErrorsTest.run("eval", "--checkpoint", run.toString(), "--batches", "1", "--batch-size", "1",
                "--cache-dir", dir.resolve("cache").toString());
        assertOk(r);
        assertTrue(r.out().contains(data.toAbsolutePath().toString()), r.out());
        assertFalse(r.out().contains("src.zip"), r.out());
    }

    @Test
    void evalNamesItselfInItsErrors() throws IOException {
        Files.createDirectories(run);
        Files.copy(config, run.resolve("config.json"));
        assertFails(CliErrorsTest.run("eval", "--checkpoint", run.toString()), "tessera: eval: ");
    }

    @Test
    void aRunNameIsOnePlainPathSegment() throws IOException {
        runs = dir.resolve("a/b/runs");
        Files.createDirectories(runs.resolve("keep"));
        Files.writeString(runs.resolve("keep/notes.txt"), "mine");
        Files.writeString(dir.resolve("a/b/notes.txt"), "mine too");
        for (String name : List.of("", ".", "..", "../x", "../../x", "a/b", "a\\b", dir.resolve("abs").toString())) {
            assertFails(train("--name", name, "--overwrite"), "train: --name");
        }
        assertTrue(Files.isRegularFile(runs.resolve("keep/notes.txt")));
        assertTrue(Files.isRegularFile(dir.resolve("a/b/notes.txt")));
        try (Stream<Path> list = Files.list(dir.resolve("a/b"))) {
            assertEquals(Set.of("runs", "notes.txt"), new HashSet<>(list.map(p -> p.getFileName().toString()).toList()));
        }
        assertFalse(Files.exists(dir.resolve("a/x")));
        assertFalse(Files.exists(dir.resolve("abs")));
    }

    @Test
    void overwriteDeletesOnlyATesseraRun() throws IOException {
        Files.createDirectories(runs.resolve("mine"));
        Files.writeString(runs.resolve("mine/notes.txt"), "mine");
        assertFails(train("--name", "mine", "--overwrite"), "mine");
        assertFails(train("--name", "mine", "--resume"), "mine", "not a Tessera run");
        assertTrue(Files.isRegularFile(runs.resolve("mine/notes.txt")));
        assertOk(train("--steps", "2"));
        assertOk(train("--overwrite"));
        assertEquals(List.of("1", "2", "3", "4"), metricSteps(run));
    }

    @Test
    void aMalformedCheckpointFileStopsResumeAndChangesNothing() throws IOException {
        assertOk(train());
        Path ck = run.resolve("checkpoints/step-00000004");
        String state = Files.readString(ck.resolve("state.json"));
        List<String> cases = List.of(
                "state.json", state.replaceFirst("\"step\" : 4", "\"step\" : \"ten\""),
                "state.json", "",
                "state.json", "hello",
                "model.safetensors", "garbage",
                "optimizer.safetensors", "",
                "config.json", "{ not json",
                "run.json", "hello");
        for (int i = 0; i < cases.size(); i += 2) {
            String name = cases.get(i);
            Path file = name.endsWith("safetensors") || name.equals("state.json") ? ck.resolve(name) : run.resolve(name);
            byte[] good = Files.exists(file) ? Files.readAllBytes(file) : null;
            Files.writeString(file, cases.get(i + 1));
            Map<String, String> before = snapshot(run);
            assertFails(train("--steps", "6", "--resume"), name);
            assertEquals(before, snapshot(run), "nothing written after a broken " + name);
            if (good != null) {
                Files.write(file, good);
            }
        }
        assertOk(train("--steps", "6", "--resume"));
    }

    @Test
    void resumeKeepsTheRunsModelAndSchedule() throws IOException {
        assertOk(train("--attention", "alibi", "--warmup", "1"));
        String savedConfig = Files.readString(run.resolve("config.json"));
        CliErrorsTest.Result extended = train("--steps", "6", "--resume");
        assertOk(extended);
        assertEquals(savedConfig, Files.readString(run.resolve("config.json")), "config.json is the run's, never rewritten");
        assertTrue(extended.out().contains("--steps 6"), extended.out());
        List<Double> lr = Files.readAllLines(run.resolve("metrics.csv")).stream().skip(1).map(l -> Double.parseDouble(l.split(",")[3]))
                .toList();
        assertEquals(6, lr.size());
        for (int i = 4; i < 6; i++) {
            assertTrue(lr.get(i) <= lr.get(3) * (1 + 1e-9), "no jump of the learning rate after extending --steps: " + lr);
        }
        assertFails(train("--steps", "8", "--resume", "--attention", "softmax"), "--attention");
        assertFails(train("--steps", "8", "--resume", "--attention-option", "window=3"), "attention alibi takes no options");
        assertFails(train("--steps", "8", "--resume", "--lr", "0.1"), "--lr");
        assertEquals(savedConfig, Files.readString(run.resolve("config.json")));
    }

    /** Losses (column 2 of metrics.csv) of a run, step by step. */
    private static List<String> losses(Path run) throws IOException {
        return Files.readAllLines(run.resolve("metrics.csv")).stream().skip(1).map(l -> l.split(",")[1]).toList();
    }

    @Test
    void trainOnTheSimulatedDeviceResumesThereAndMatchesTheCpuRunBitForBit() throws IOException {
        assertOk(train("--steps", "2"));
        assertOk(train("--steps", "4", "--resume"));
        assertOk(train("--device", "sim", "--name", "s", "--steps", "2", "--sample-tokens", "5"));
        assertOk(train("--device", "sim", "--name", "s", "--steps", "4", "--resume"));
        assertEquals(losses(run), losses(runs.resolve("s")));
        assertEquals(4, losses(run).size());
        String[] eval = {"eval", "--checkpoint", run.toString(), "--batches", "2", "--batch-size", "2", "--cache-dir", dir.resolve("cache").toString()};
        CliErrorsTest.Result evalCpu = CliErrorsTest.run(eval);
        CliErrorsTest.Result evalSim = CliErrorsTest.run(CliErrorsTest.concat(new String[] {"--device", "sim"}, eval));
        assertEquals(0, evalSim.code(), evalSim.err());
        assertEquals(evalCpu.out(), evalSim.out());
        String[] generate = {"generate", "--checkpoint", run.toString(), "--prompt", "the quick", "--max-tokens", "20", "--seed", "3"};
        CliErrorsTest.Result generateSim = CliErrorsTest.run(CliErrorsTest.concat(new String[] {"--device", "sim"}, generate));
        assertOk(generateSim);
        assertEquals(CliErrorsTest.run(generate).out().replaceAll("[0-9.]+ tokens/s", ""), generateSim.out().replaceAll("[0-9.]+ tokens/s", ""));
        CliErrorsTest.Result bench = CliErrorsTest.run("bench", "train", "--device", "sim", "--steps", "1", "--warmup", "0", "--threads", "1",
                "--profile");
        assertOk(bench);
        assertTrue(bench.out().contains("device=sim"), bench.out());
        for (String row : new String[] {"forward +matmul ", "backward +matmul ", "forward +causal_block_attention ", "step +optimizer "}) {
            assertTrue(java.util.regex.Pattern.compile("(?m)^" + row).matcher(bench.out()).find(), row + " in\n" + bench.out());
        }
    }

    @Test
    void aSecondProcessOnALiveRunIsRefused() throws IOException {
        assertOk(train());
        Map<String, String> before = snapshot(run);
        try (FileChannel ch = FileChannel.open(run.resolve("run.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock held = ch.lock()) {
            assertFails(train("--steps", "6", "--resume"), run.toString());
            assertFails(train("--overwrite"), run.toString());
            assertEquals(before, snapshot(run));
        }
        assertOk(train("--steps", "6", "--resume"));
    }

    @Test
    void resumeAfterACrashKeepsOneHistory() throws IOException {
        assertOk(train());
        // a crash after step 4's metrics but before its checkpoint: step 2 is the newest complete one
        dev.tessera.models.train.Checkpoints.deleteTree(run.resolve("checkpoints/step-00000004"));
        assertOk(train("--resume"));
        assertEquals(List.of("1", "2", "3", "4"), metricSteps(run));
        Map<String, List<Long>> events = EventFiles.scalarSteps(run.resolve("tensorboard"));
        for (var e : events.entrySet()) {
            assertEquals(new HashSet<>(e.getValue()).size(), e.getValue().size(), e.getKey() + " has one point per step: " + e.getValue());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), events.get("loss/train").stream().sorted().toList());
    }

    @Test
    void badOptionsAreRefusedBeforeAnythingIsCreated() {
        for (String[] bad : new String[][] {{"--lr", "Infinity"}, {"--lr", "NaN"}, {"--min-lr", "Infinity"}, {"--batch-size", "100000"},
                {"--weight-decay", "Infinity"}, {"--clip", "-1"}, {"--sample-tokens", "-1"}, {"--warmup", "-1"}}) {
            assertFails(train(bad), "train: ", bad[0]);
            assertFalse(Files.exists(runs), String.join(" ", bad) + " created " + runs);
        }
    }

    @Test
    void aRunThatDivergesBeforeItsFirstCheckpointCanBeRetried() {
        CliErrorsTest.Result wild = train("--lr", "1e6", "--warmup", "0", "--clip", "0", "--checkpoint-every", "100", "--steps", "20");
        assertEquals(3, wild.code(), wild.err() + wild.out());
        assertFalse(wild.err().contains("--resume"), "advice that works: " + wild.err());
        assertOk(train());
    }
}
