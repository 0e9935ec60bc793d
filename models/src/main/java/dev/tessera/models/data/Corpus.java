package dev.tessera.models.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A set of text documents, one per file: a single text file, a directory of text files (walked
 * recursively, hidden names starting with '.' skipped, sorted by relative path with '/' separators
 * so the order never depends on the file system's listing order) or a zip of them (entries sorted by
 * name, optionally restricted to a name prefix).
 *
 * <p>Files that are not UTF-8 text — they contain a NUL byte or a malformed UTF-8 sequence — are
 * skipped and counted ({@link Scan#skipped()}); empty files are skipped silently. A single file
 * given directly must be text. Each document must be smaller than 2 GB.
 *
 * <p>The default corpus ({@link #jdkSources()}) is the running JDK's own {@code lib/src.zip}
 * restricted to {@code java.base/}: about 3,400 Java files, 50 MB.
 */
public final class Corpus {
    /** A candidate document: its name (relative path or zip entry name) and size in bytes. */
    public record Entry(String name, long size) { }

    /** Receives each text document's UTF-8 bytes {@code utf8[0, length)}; the array is reused. */
    @FunctionalInterface
    public interface DocumentSink {
        void accept(Entry entry, byte[] utf8, int length) throws IOException;
    }

    /** What one pass over the corpus found. */
    public record Scan(int documents, int skipped, long bytes, List<String> skippedNames) { }

    private enum Kind { FILE, DIRECTORY, ZIP }

    private static final int MAX_SKIPPED_NAMES = 20;
    private static final List<String> OTHER_ARCHIVES = List.of(".gz", ".tgz", ".tar", ".bz2", ".xz", ".zst", ".7z", ".rar");

    private final Kind kind;
    private final Path path;
    private final String prefix;
    private final List<Entry> entries;
    private final String identity;

    private Corpus(Kind kind, Path path, String prefix, List<Entry> entries, String identity) {
        this.kind = kind;
        this.path = path;
        this.prefix = prefix;
        this.entries = List.copyOf(entries);
        this.identity = identity;
    }

    /** {@code --data PATH}: a text file, a directory or a .zip; {@code null} gives {@link #jdkSources()}. */
    public static Corpus open(Path path) {
        if (path == null) {
            return jdkSources();
        }
        if (!Files.exists(path)) {
            throw new IllegalArgumentException("Corpus: " + path + " does not exist (expected a text file, a directory of text files or a .zip of them)");
        }
        if (Files.isDirectory(path)) {
            return directory(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("Corpus: " + path + " is not a regular file or directory (expected a text file, a directory of text files or a .zip of them)");
        }
        if (isZip(path)) {
            return zip(path, "");
        }
        String lower = path.getFileName().toString().toLowerCase(Locale.ROOT);
        for (String ext : OTHER_ARCHIVES) {
            if (lower.endsWith(ext)) {
                throw new IllegalArgumentException("Corpus: " + path + " is a " + ext + " archive, which is not supported (expected a text file, a directory of text files or a .zip of them)");
            }
        }
        return file(path);
    }

    /** The running JDK's {@code lib/src.zip}, {@code java.base/} entries only. */
    public static Corpus jdkSources() {
        Path src = jdkSourceZip();
        if (!Files.isRegularFile(src)) {
            throw new IllegalArgumentException("Corpus: the default corpus " + src + " is missing (this JDK ships without sources); pass --data PATH");
        }
        return zip(src, "java.base/");
    }

    /** Where the running JDK keeps its sources, whether or not the file exists. */
    public static Path jdkSourceZip() {
        return Path.of(System.getProperty("java.home"), "lib", "src.zip");
    }

    /** One text file as one document. */
    public static Corpus file(Path file) {
        try {
            long size = Files.size(file);
            byte[] head;
            try (InputStream in = Files.newInputStream(file)) {
                head = in.readNBytes(8192);
            }
            for (byte b : head) {
                if (b == 0) {
                    throw new IllegalArgumentException("Corpus: " + file + " is binary (expected a UTF-8 text file, a directory of text files or a .zip of them)");
                }
            }
            Path abs = file.toAbsolutePath().normalize();
            String identity = "file\n" + abs + "\n" + size + "\t" + mtime(file) + "\n";
            return new Corpus(Kind.FILE, abs, "", List.of(new Entry(abs.getFileName().toString(), size)), identity);
        } catch (IOException e) {
            throw new UncheckedIOException("Corpus: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Every regular file under {@code dir}, recursively, in sorted relative-path order. */
    public static Corpus directory(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        List<Entry> entries = new ArrayList<>();
        StringBuilder id = new StringBuilder("directory\n").append(abs).append('\n');
        try (Stream<Path> walk = Files.walk(abs)) {
            List<Path> files = walk.filter(p -> !hidden(abs, p) && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> relativeName(abs, p)))
                    .toList();
            for (Path p : files) {
                String name = relativeName(abs, p);
                long size = Files.size(p);
                entries.add(new Entry(name, size));
                id.append(name).append('\t').append(size).append('\t').append(mtime(p)).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Corpus: cannot list " + dir + ": " + e.getMessage(), e);
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("Corpus: directory " + dir + " holds no files (expected text files)");
        }
        return new Corpus(Kind.DIRECTORY, abs, "", entries, id.toString());
    }

    /** The file entries of a zip whose names start with {@code prefix} ("" for all), sorted by name. */
    public static Corpus zip(Path zipPath, String prefix) {
        Path abs = zipPath.toAbsolutePath().normalize();
        List<Entry> entries = new ArrayList<>();
        StringBuilder id = new StringBuilder("zip\n").append(abs).append('\n').append(prefix).append('\n');
        try (ZipFile zf = new ZipFile(abs.toFile(), StandardCharsets.UTF_8)) {
            id.append(Files.size(abs)).append('\n');
            List<ZipEntry> list = new ArrayList<>();
            for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (!e.isDirectory() && e.getName().startsWith(prefix)) {
                    list.add(e);
                }
            }
            list.sort(Comparator.comparing(ZipEntry::getName));
            for (ZipEntry e : list) {
                entries.add(new Entry(e.getName(), e.getSize()));
                id.append(e.getName()).append('\t').append(e.getSize()).append('\t').append(Long.toHexString(e.getCrc())).append('\n');
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("Corpus: " + zipPath + " is not a readable zip (" + e.getMessage() + ")", e);
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("Corpus: zip " + zipPath + " has no files" + (prefix.isEmpty() ? "" : " under " + prefix));
        }
        return new Corpus(Kind.ZIP, abs, prefix, entries, id.toString());
    }

    /** The candidate documents in reading order (before skipping non-text files). */
    public List<Entry> entries() {
        return entries;
    }

    /** Sum of the candidates' sizes in bytes. */
    public long totalBytes() {
        long s = 0;
        for (Entry e : entries) {
            s += e.size();
        }
        return s;
    }

    /**
     * Identifies the data: the path and each candidate's name, size and mtime (directories, files)
     * or name, size and CRC (zips). Equal identities mean equal data, so it keys the token cache.
     */
    public String identity() {
        return identity;
    }

    /** For messages: e.g. {@code zip /path/src.zip (java.base/*, 3400 files)}. */
    public String description() {
        return switch (kind) {
            case FILE -> "file " + path;
            case DIRECTORY -> "directory " + path + " (" + entries.size() + " files)";
            case ZIP -> "zip " + path + " (" + (prefix.isEmpty() ? "" : prefix + "*, ") + entries.size() + " files)";
        };
    }

    /**
     * Reads every candidate in order and hands each text document to {@code sink}; reports the
     * bytes of candidates read so far (skipped ones included) to {@code progress}.
     */
    public Scan forEachDocument(DocumentSink sink, Progress progress) {
        Reader reader = new Reader();
        long total = totalBytes();
        long done = 0;
        int documents = 0;
        int skipped = 0;
        long bytes = 0;
        List<String> skippedNames = new ArrayList<>();
        try (ZipFile zf = kind == Kind.ZIP ? new ZipFile(path.toFile(), StandardCharsets.UTF_8) : null) {
            for (Entry e : entries) {
                int n = switch (kind) {
                    case FILE -> reader.read(path, e);
                    case DIRECTORY -> reader.read(path.resolve(e.name()), e);
                    case ZIP -> {
                        ZipEntry ze = zf.getEntry(e.name());
                        if (ze == null) {
                            throw new IOException("entry " + e.name() + " vanished");
                        }
                        try (InputStream in = zf.getInputStream(ze)) {
                            yield reader.read(in, e);
                        }
                    }
                };
                done = Math.min(total, done + e.size());
                if (n > 0) {
                    if (reader.isText(n)) {
                        sink.accept(e, reader.buffer, n);
                        documents++;
                        bytes += n;
                    } else if (kind == Kind.FILE) {
                        throw new IllegalArgumentException("Corpus: " + path + " is not UTF-8 text (expected a UTF-8 text file, a directory of text files or a .zip of them)");
                    } else {
                        skipped++;
                        if (skippedNames.size() < MAX_SKIPPED_NAMES) {
                            skippedNames.add(e.name());
                        }
                    }
                }
                progress.update(done, total);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Corpus: reading " + description() + " failed: " + e.getMessage(), e);
        }
        return new Scan(documents, skipped, bytes, List.copyOf(skippedNames));
    }

    /** Reads files into one growing buffer and checks them for UTF-8 text without allocating per file. */
    private static final class Reader {
        byte[] buffer = new byte[1 << 16];
        private CharBuffer chars = CharBuffer.allocate(1 << 16);
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);

        int read(Path file, Entry e) throws IOException {
            try (InputStream in = Files.newInputStream(file)) {
                return read(in, e);
            }
        }

        int read(InputStream in, Entry e) throws IOException {
            if (e.size() > Integer.MAX_VALUE - 16) {
                throw new IOException(e.name() + " is " + e.size() + " bytes; documents must be under 2 GB");
            }
            ensure((int) Math.max(e.size(), 0) + 1);
            int n = 0;
            while (true) {
                if (n == buffer.length) {
                    if (n >= Integer.MAX_VALUE - 16) {
                        throw new IOException(e.name() + " is over 2 GB; documents must be smaller");
                    }
                    ensure((int) Math.min(Integer.MAX_VALUE - 16L, 2L * n));
                }
                int r = in.read(buffer, n, buffer.length - n);
                if (r < 0) {
                    return n;
                }
                n += r;
            }
        }

        private void ensure(int capacity) {
            if (buffer.length < capacity) {
                buffer = java.util.Arrays.copyOf(buffer, Math.max(capacity, (int) Math.min(Integer.MAX_VALUE - 16L, buffer.length * 2L)));
            }
        }

        /** No NUL byte and well-formed UTF-8. */
        boolean isText(int n) {
            byte[] b = buffer;
            boolean ascii = true;
            for (int i = 0; i < n; i++) {
                int v = b[i];
                if (v == 0) {
                    return false;
                }
                if (v < 0) {
                    ascii = false;
                }
            }
            if (ascii) {
                return true;
            }
            if (chars.capacity() < n) {
                chars = CharBuffer.allocate(Math.max(n, chars.capacity() * 2));
            }
            chars.clear();
            decoder.reset();
            ByteBuffer in = ByteBuffer.wrap(b, 0, n);
            if (decoder.decode(in, chars, true).isError()) {
                return false;
            }
            return !decoder.flush(chars).isError();
        }
    }

    private static boolean isZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            boolean magic = m.length == 4 && m[0] == 'P' && m[1] == 'K' && ((m[2] == 3 && m[3] == 4) || (m[2] == 5 && m[3] == 6));
            if (!magic && file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".zip")) {
                throw new IllegalArgumentException("Corpus: " + file + " is named .zip but is not a zip archive");
            }
            return magic;
        } catch (IOException e) {
            throw new UncheckedIOException("Corpus: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path root, Path p) {
        for (Path part : root.relativize(p)) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String relativeName(Path root, Path p) {
        Path rel = root.relativize(p);
        StringBuilder sb = new StringBuilder();
        for (Path part : rel) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(part);
        }
        return sb.isEmpty() ? p.getFileName().toString() : sb.toString();
    }

    private static long mtime(Path p) throws IOException {
        return Files.getLastModifiedTime(p).to(TimeUnit.NANOSECONDS);
    }

    @Override
    public String toString() {
        return description();
    }
}
