package dev.tessera.tensor;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Durability helpers shared by every atomic writer (safetensors files, checkpoints, token caches). */
public final class FileSync {
    private FileSync() {}

    /**
     * Makes a rename inside {@code dir} durable where the OS allows fsync on a directory (POSIX);
     * elsewhere a no-op, since the rename itself is still atomic there.
     */
    public static void directory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException unsupported) {
            // Windows and some file systems cannot open a directory for sync
        }
    }
}
