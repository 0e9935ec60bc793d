package dev.tessera.models.train;

import dev.tessera.tensor.FileSync;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Checkpoints as directories {@code step-00000100/} holding {@code model.safetensors} (Hugging
 * Face names), {@code optimizer.safetensors}, {@code state.json} and, written last, the marker
 * {@code COMPLETE}. A save goes to a temporary directory beside them, every file is fsynced, the
 * marker is written and fsynced, the directory is renamed into place and its parent fsynced; so
 * a crash at any moment leaves either the old set of checkpoints or the new one, and
 * {@link #latest()} only ever returns a complete checkpoint. The last {@code keep} are kept.
 */
public final class Checkpoints {
    public static final String MODEL = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String STATE = "state.json";
    public static final String MARKER = "COMPLETE";
    private static final String PREFIX = "step-";

    private final Path dir;
    private final int keep;
    private WriteHook hook = file -> { };

    /** Runs before each file of a save is written; tests throw from it to stand in for a full disk. */
    @FunctionalInterface
    interface WriteHook {
        void beforeWrite(Path file) throws IOException;
    }

    public Checkpoints(Path dir, int keep) {
        if (keep < 2) {
            throw new IllegalArgumentException("checkpoints: keep at least 2, got " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    /** A complete checkpoint on disk. */
    public record Checkpoint(long step, Path path) {
        public Map<String, Tensor> model() throws IOException {
            return SafeTensors.read(path.resolve(MODEL));
        }

        public Map<String, Tensor> optimizer() throws IOException {
            return SafeTensors.read(path.resolve(OPTIMIZER));
        }

        public String state() throws IOException {
            return Files.readString(path.resolve(STATE));
        }
    }

    Checkpoints withWriteHook(WriteHook h) {
        this.hook = h;
        return this;
    }

    public Path directory() {
        return dir;
    }

    /**
     * Saves step {@code step} atomically. An I/O failure is rethrown as one line naming the step and
     * the file, e.g. {@code checkpoint step 100: writing runs/x/checkpoints/step-00000100/model.safetensors:
     * No space left on device}; the temporary directory is removed and the older checkpoints stay.
     */
    public Checkpoint save(long step, Map<String, Tensor> model, Map<String, Tensor> optimizer, String stateJson) throws IOException {
        String name = String.format("%s%08d", PREFIX, step);
        Path target = dir.resolve(name);
        Path tmp = dir.resolve(name + ".tmp-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        String doing = "creating " + dir;
        try {
            Files.createDirectories(dir);
            doing = "creating " + tmp;
            Files.createDirectory(tmp);
            doing = "writing " + target.resolve(MODEL);
            hook.beforeWrite(tmp.resolve(MODEL));
            SafeTensors.write(tmp.resolve(MODEL), model, Map.of("format", "pt", "step", Long.toString(step)));
            doing = "writing " + target.resolve(OPTIMIZER);
            hook.beforeWrite(tmp.resolve(OPTIMIZER));
            SafeTensors.write(tmp.resolve(OPTIMIZER), optimizer, Map.of("step", Long.toString(step)));
            doing = "writing " + target.resolve(STATE);
            hook.beforeWrite(tmp.resolve(STATE));
            writeSynced(tmp.resolve(STATE), stateJson);
            doing = "writing " + target.resolve(MARKER);
            hook.beforeWrite(tmp.resolve(MARKER));
            writeSynced(tmp.resolve(MARKER), "step " + step + "\n");
            FileSync.directory(tmp);
            doing = "replacing " + target;
            if (Files.exists(target)) { // re-saving a step (after a rollback): move the old one out of the way first
                deleteTree(target);
            }
            doing = "renaming " + tmp.getFileName() + " to " + target;
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically", e);
            }
            FileSync.directory(dir);
            doing = "removing old checkpoints from " + dir;
            prune();
        } catch (IOException e) {
            deleteQuietly(tmp, e);
            throw new IOException("checkpoint step " + step + ": " + doing + ": " + reason(e), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp, e);
            throw e;
        }
        return new Checkpoint(step, target);
    }

    private static String reason(IOException e) {
        String m = e.getMessage();
        // NIO puts the path first ("/x/y: No space left on device" or just the path); the path is already named
        if (e instanceof java.nio.file.FileSystemException fse) {
            m = fse.getReason() != null ? fse.getReason() : e.getClass().getSimpleName();
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }

    private static void deleteQuietly(Path tmp, Exception cause) {
        try {
            deleteTree(tmp);
        } catch (IOException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    /** The newest complete checkpoint, if any. */
    public Optional<Checkpoint> latest() {
        List<Checkpoint> all = complete();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Complete checkpoints, oldest first. */
    public List<Checkpoint> complete() {
        List<Checkpoint> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> children = Files.list(dir)) {
            children.forEach(p -> {
                String n = p.getFileName().toString();
                if (n.startsWith(PREFIX) && !n.contains(".tmp") && Files.isRegularFile(p.resolve(MARKER))) {
                    try {
                        out.add(new Checkpoint(Long.parseLong(n.substring(PREFIX.length())), p));
                    } catch (NumberFormatException ignored) {
                        // not one of ours
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("checkpoints: cannot list " + dir, e);
        }
        out.sort(Comparator.comparingLong(Checkpoint::step));
        return out;
    }

    /** Deletes all but the newest {@code keep} complete checkpoints, and leftovers of interrupted saves. */
    private void prune() throws IOException {
        List<Checkpoint> all = complete();
        for (int i = 0; i < all.size() - keep; i++) {
            deleteTree(all.get(i).path());
        }
        try (Stream<Path> children = Files.list(dir)) {
            for (Path p : children.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(PREFIX) && n.contains(".tmp-") && !n.contains(".tmp-" + ProcessHandle.current().pid() + "-")) {
                    deleteTree(p);
                }
            }
        }
    }

    static void writeSynced(Path file, String text) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ch.force(true);
        }
    }

    /** Deletes a directory tree (children first); absent is fine. */
    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
