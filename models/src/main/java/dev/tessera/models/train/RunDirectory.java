package dev.tessera.models.train;

import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A run directory {@code <runs-dir>/<name>/}: what it holds, and the rules that keep a user's files
 * safe. A name is one plain path segment, so a run never lands outside {@code --runs-dir}. Only a
 * directory carrying the marker {@link RunInfo#FILE} is a Tessera run; only a run is ever reused or
 * deleted, and the lock file {@link RunLock#FILE} survives even that, so every process locks the
 * same file.
 *
 * <pre>
 *   run.json             the marker and the record of data, tokenizer, seed and split ({@link RunInfo})
 *   run.lock             held by the process training the run ({@link RunLock})
 *   config.json          the model (Hugging Face field names); a resume rebuilds the model from it
 *   tokenizer.json       the --tokenizer used, when not raw bytes
 *   metrics.csv, loss.png, tensorboard/, checkpoints/step-NNNNNNNN/
 * </pre>
 */
public final class RunDirectory {
    public static final String CONFIG = "config.json";
    public static final String TOKENIZER = "tokenizer.json";

    /** What is at a run's path. */
    public enum State {
        /** Nothing there yet. */
        ABSENT,
        /** An empty directory (or one holding only a lock file). */
        EMPTY,
        /** Something that is not a Tessera run: never reused, never deleted. */
        FOREIGN,
        /** A run without a complete checkpoint: nothing to resume, so starting it over loses nothing. */
        STARTED,
        /** A run with at least one complete checkpoint. */
        CHECKPOINTED
    }

    private RunDirectory() {}

    /** {@code name} if it is one plain path segment (not empty, ".", "..", absolute, or holding a separator). */
    public static String checkName(String name) {
        boolean plain = !name.isBlank() && !name.equals(".") && !name.equals("..") && name.indexOf('/') < 0 && name.indexOf('\\') < 0
                && name.indexOf('\0') < 0;
        if (plain) {
            try {
                Path p = Path.of(name);
                plain = !p.isAbsolute() && p.getNameCount() == 1 && p.toString().equals(name);
            } catch (java.nio.file.InvalidPathException e) {
                plain = false;
            }
        }
        if (!plain) {
            throw new IllegalArgumentException("train: --name '" + name + "' must be one plain directory name inside --runs-dir (not empty,"
                    + " '.', '..', a path with '/' or '\\', or absolute)");
        }
        return name;
    }

    public static State state(Path dir) {
        if (!Files.exists(dir)) {
            return State.ABSENT;
        }
        if (!Files.isDirectory(dir)) {
            return State.FOREIGN;
        }
        if (!Files.exists(dir.resolve(RunInfo.FILE))) {
            return others(dir).isEmpty() ? State.EMPTY : State.FOREIGN;
        }
        return new Checkpoints(dir.resolve("checkpoints"), 2).latest().isPresent() ? State.CHECKPOINTED : State.STARTED;
    }

    /**
     * Deletes everything in a run but its lock file and its marker (which the caller then replaces),
     * so an interrupted clear still leaves a run; refuses anything that is not a run. The caller holds the lock.
     */
    public static void clear(Path dir) throws IOException {
        if (!Files.isRegularFile(dir.resolve(RunInfo.FILE))) {
            throw new IllegalArgumentException("train: " + dir + " is not a Tessera run (no " + RunInfo.FILE + "); it is left alone");
        }
        for (Path p : others(dir)) {
            if (!p.getFileName().toString().equals(RunInfo.FILE)) {
                Checkpoints.deleteTree(p);
            }
        }
    }

    private static List<Path> others(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> !p.getFileName().toString().equals(RunLock.FILE)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot be listed: " + e.getMessage(), e);
        }
    }

    /** The directory of a run given as itself or as one of its checkpoint directories. */
    public static Path of(Path path) {
        return Files.isRegularFile(path.resolve(Checkpoints.MARKER)) && path.getParent() != null && path.getParent().getParent() != null
                ? path.getParent().getParent() : path;
    }

    /** The run's model configuration; a missing or malformed config.json is one line for {@code command}. */
    public static ModelConfig modelConfig(Path runDir, String command) {
        Path file = runDir.resolve(CONFIG);
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(command + ": " + runDir + " has no " + CONFIG + " (is it a Tessera run directory?)");
        } catch (IOException e) {
            throw new UncheckedIOException(command + ": " + file + ": cannot be read: " + e.getMessage(), e);
        }
        try {
            return ModelConfig.fromJson(text);
        } catch (RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("").strip();
            m = m.startsWith(CONFIG + ": ") ? m.substring(CONFIG.length() + 2) : m; // the path below names the file already
            throw new IllegalArgumentException(command + ": " + file + ": " + m, e);
        }
    }

    /**
     * The model of {@code path} (a run, loading its newest complete checkpoint, or one checkpoint
     * directory), built from the run's config.json; errors are one line for {@code command}.
     */
    public static LanguageModel loadModel(Path path, String command, PrintWriter log) throws IOException {
        Path runDir = of(path);
        ModelConfig config = modelConfig(runDir, command);
        Checkpoints all = new Checkpoints(runDir.resolve("checkpoints"), 2);
        Path named = path.toAbsolutePath().normalize();
        Checkpoints.Checkpoint ck = Files.isRegularFile(path.resolve(Checkpoints.MARKER))
                ? all.complete().stream().filter(c -> c.path().toAbsolutePath().normalize().equals(named)).findFirst()
                        .orElse(new Checkpoints.Checkpoint(-1, path))
                : all.latest().orElseThrow(() -> new IllegalArgumentException(command + ": " + runDir + " has no complete checkpoint yet"));
        LanguageModel model = Models.create(config, new Generator(0));
        Path weights = ck.path().resolve(Checkpoints.MODEL);
        try {
            model.module().loadStateDict(ck.model(), true);
        } catch (IllegalArgumentException e) {
            String m = String.valueOf(e.getMessage());
            throw new IllegalArgumentException(command + ": " + (m.contains(weights.toString()) ? "" : weights + ": ") + m, e);
        }
        log.println(ck.step() < 0 ? "checkpoint: " + ck.path() : "checkpoint step " + ck.step() + ": " + ck.path());
        log.flush();
        return model;
    }
}
