package dev.tessera.models.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An exclusive lock on a run directory for the whole life of the process that trains it: an OS
 * file lock ({@link FileChannel#tryLock()}) on {@code run.lock} inside the run, which the OS drops
 * when the process dies, so a crash never leaves a stale lock behind. A second process (train,
 * resume or overwrite of the same run) gets one line naming the run and the holder's pid. File
 * locks belong to the whole JVM, and closing any channel of the file drops them on POSIX systems,
 * so runs this JVM holds are also kept in a set and a second attempt from the same JVM (tests) is
 * refused before it opens the file; a lock taken by other means in this JVM shows up as
 * {@link OverlappingFileLockException}, which counts as locked too. The file itself is never
 * deleted, not even by {@code --overwrite}, so every process locks the same file.
 */
public final class RunLock implements AutoCloseable {
    public static final String FILE = "run.lock";

    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final FileChannel channel;
    private final FileLock lock;
    private final Path key;

    private RunLock(FileChannel channel, FileLock lock, Path key) {
        this.channel = channel;
        this.lock = lock;
        this.key = key;
    }

    /** Locks {@code runDir} (which must exist) or fails with one line for {@code command}. */
    public static RunLock acquire(Path runDir, String command) throws IOException {
        Path file = runDir.resolve(FILE);
        Path key = runDir.toRealPath().resolve(FILE);
        if (!HELD.add(key)) {
            throw inUse(runDir, command, "pid " + ProcessHandle.current().pid());
        }
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw inUse(runDir, command, holder(file));
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
            return new RunLock(ch, lock, key);
        } catch (IOException | RuntimeException e) {
            HELD.remove(key);
            if (ch != null) {
                ch.close();
            }
            throw e;
        }
    }

    private static IllegalStateException inUse(Path runDir, String command, String holder) {
        return new IllegalStateException(command + ": run " + runDir + " is in use by another process" + (holder.isEmpty() ? "" : " (" + holder + ")")
                + "; wait for it to finish or stop it first");
    }

    private static String holder(Path file) {
        try {
            String s = Files.readString(file).strip();
            return s.matches("pid \\d+") ? s : "";
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            try {
                channel.close();
            } finally {
                HELD.remove(key);
            }
        }
    }
}
