package dev.tessera.gpu;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Compiled kernel images, so a warm start does not run NVRTC again (compiling the kernel set takes
 * seconds). Entries live in memory and on disk under {@link #defaultDirectory()}
 * ({@code ~/.cache/tessera/cuda}), one file per (source, options, compiler, arch):
 * {@code <name>-<sha256(source, options, compiler)>-<arch>.bin}. A file holds a magic line, the
 * SHA-256 of the payload and the payload; a file that fails the check (truncated, edited) is
 * recompiled and replaced. Files are written to a temporary name in the same directory and moved
 * into place atomically, so a concurrent or crashed writer never leaves a half-written entry under
 * the real name. A cache directory that cannot be written only costs recompiles. The compiler is
 * injected so all of this is tested without a GPU.
 */
public final class KernelCache {
    static final byte[] MAGIC = "TESSERA-KERNEL-1\n".getBytes(StandardCharsets.US_ASCII);

    private final Path directory;
    private final KernelCompiler compiler;
    private final Map<String, byte[]> memory = new ConcurrentHashMap<>();
    private final AtomicLong compiles = new AtomicLong();
    private final AtomicLong diskHits = new AtomicLong();
    private final AtomicLong memoryHits = new AtomicLong();
    private final AtomicLong corruptEntries = new AtomicLong();

    public KernelCache(Path directory, KernelCompiler compiler) {
        this.directory = directory;
        this.compiler = compiler;
    }

    /**
     * {@code tessera.cuda.cache} if set, else {@code $XDG_CACHE_HOME/tessera/cuda}, else
     * {@code ~/.cache/tessera/cuda}.
     */
    public static Path defaultDirectory() {
        String p = System.getProperty("tessera.cuda.cache");
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("tessera").resolve("cuda");
    }

    /** SHA-256 (hex) over the source, each option and the compiler identity, NUL-separated so fields cannot run together. */
    static String hash(String source, List<String> options, String compilerIdentity) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(source.getBytes(StandardCharsets.UTF_8));
            for (String o : options) {
                md.update((byte) 0);
                md.update(o.getBytes(StandardCharsets.UTF_8));
            }
            md.update((byte) 0);
            md.update((byte) 1);
            md.update(compilerIdentity.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** The cache file for one entry; the name part is sanitised to a portable file name. */
    Path path(String name, String source, List<String> options, String arch) {
        String safeName = name.replaceAll("[^A-Za-z0-9_.-]", "_");
        String safeArch = arch.replaceAll("[^A-Za-z0-9_]", "_");
        return directory.resolve(safeName + "-" + hash(source, options, compiler.identity()) + "-" + safeArch + ".bin");
    }

    /** The image for {@code source} on {@code arch}: from memory, else disk, else compiled (and stored). */
    public byte[] get(String name, String source, List<String> options, String arch) {
        Path file = path(name, source, options, arch);
        String key = file.getFileName().toString();
        byte[] hit = memory.get(key);
        if (hit != null) {
            memoryHits.incrementAndGet();
            return hit;
        }
        byte[] image = readEntry(file);
        if (image != null) {
            diskHits.incrementAndGet();
        } else {
            image = compiler.compile(name, source, options, arch);
            compiles.incrementAndGet();
            try {
                Files.createDirectories(directory);
                writeAtomically(file, encode(image));
            } catch (IOException | java.io.UncheckedIOException | SecurityException e) {
                // an unwritable cache only costs a recompile next time
            }
        }
        memory.put(key, image);
        return image;
    }

    /** Drops the in-memory layer (the disk entries stay); used by tests to simulate a new process. */
    public void clearMemory() {
        memory.clear();
    }

    public long compiles() {
        return compiles.get();
    }

    public long diskHits() {
        return diskHits.get();
    }

    public long memoryHits() {
        return memoryHits.get();
    }

    public long corruptEntries() {
        return corruptEntries.get();
    }

    /** The compiler's identity, part of every key. */
    public String compilerIdentity() {
        return compiler.identity();
    }

    public Path directory() {
        return directory;
    }

    static byte[] encode(byte[] payload) {
        byte[] digest = sha256(payload);
        ByteBuffer buf = ByteBuffer.allocate(MAGIC.length + digest.length + 8 + payload.length);
        buf.put(MAGIC).put(digest).putLong(payload.length).put(payload);
        return buf.array();
    }

    /** The payload of a valid entry, or null if absent or corrupt. */
    byte[] readEntry(Path file) {
        byte[] all;
        try {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            return null;
        }
        byte[] payload = decode(all);
        if (payload == null) {
            corruptEntries.incrementAndGet();
        }
        return payload;
    }

    static byte[] decode(byte[] all) {
        int header = MAGIC.length + 32 + 8;
        if (all.length < header || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            return null;
        }
        ByteBuffer buf = ByteBuffer.wrap(all);
        buf.position(MAGIC.length);
        byte[] digest = new byte[32];
        buf.get(digest);
        long len = buf.getLong();
        if (len != all.length - header) {
            return null;
        }
        byte[] payload = Arrays.copyOfRange(all, header, all.length);
        return MessageDigest.isEqual(digest, sha256(payload)) ? payload : null;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Test hook between writing the temporary file and moving it into place. */
    interface BeforeMove {
        void run(Path temp) throws IOException;
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        writeAtomically(target, bytes, t -> {});
    }

    /**
     * Writes {@code bytes} to a temporary file beside {@code target}, forces it to disk and renames
     * it over {@code target} (atomic where the file system supports it). The temporary file is
     * removed on any failure, leaving the previous {@code target} untouched.
     */
    static void writeAtomically(Path target, byte[] bytes, BeforeMove hook) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            hook.run(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
