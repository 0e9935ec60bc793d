package dev.tessera.models.train;

import dev.tessera.tensor.FileSync;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Replaces a small file of a run (run.json, metrics.csv, an event file) so that a crash at any
 * moment leaves either the old contents or the new: a temporary file beside it, fsynced, renamed
 * over it, the directory fsynced. The temporary name keeps "tfevents" out, so TensorBoard never
 * reads a leftover one as an event file.
 */
final class AtomicFile {
    private AtomicFile() {}

    static void write(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(".atomic-" + ProcessHandle.current().pid() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        FileSync.directory(file.toAbsolutePath().getParent());
    }
}
