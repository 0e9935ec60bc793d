package dev.tessera.models.data;

import dev.tessera.models.tokenizer.Tokenizer;
import dev.tessera.tensor.FileSync;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Tokenizes a {@link Corpus} once and keeps the result on disk, so later runs map it and start at
 * once.
 *
 * <p>The file is named by a SHA-256 key over the corpus {@linkplain Corpus#identity() identity}
 * (paths, sizes, mtimes or zip CRCs) and the tokenizer's {@linkplain Tokenizer#id() id}, vocabulary
 * size and end-of-document id, so changed data or another tokenizer gets a new file. Layout, all
 * little-endian:
 *
 * <pre>
 *   0  magic "TSRTOKv1"          8 bytes
 *   8  format version           int32 (1)
 *  12  token width in bytes     int32 (2 = uint16 when vocab ≤ 65536, else 4 = int32)
 *  16  vocab size, EOD id       int32, int32
 *  24  token count              int64
 *  32  document count           int32
 *  36  skipped files            int32
 *  40  key                      32 bytes (SHA-256)
 *  72  payload CRC32C           int64 (bytes 128 … end)
 *  80  header CRC32C            int32 (bytes 0 … 80)
 * 128  tokens                   count × width
 *      zero padding to a multiple of 8
 *      document starts          int64 × (documents + 1), first 0, last = token count
 * </pre>
 *
 * <p>A build writes a temporary file in the same directory, fsyncs it and renames it over the final
 * name, so a crash never leaves a half-written cache under the final name. A read checks the magic,
 * version, key, exact file length, both checksums and the document starts before trusting a byte;
 * any mismatch deletes the file and rebuilds it ({@link TokenizedCorpus#rebuildReason()} says why).
 */
public final class TokenCache {
    private static final byte[] MAGIC = "TSRTOKv1".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    static final int HEADER_BYTES = 128;
    private static final int HEADER_CRC_AT = 80;
    private static final int WRITE_BUFFER = 1 << 20;

    private final Path directory;

    /** A cache in {@code directory} (created when first written). */
    public TokenCache(Path directory) {
        this.directory = directory;
    }

    /** A cache in {@link #defaultDirectory()}. */
    public TokenCache() {
        this(defaultDirectory());
    }

    /** {@code ~/.cache/tessera/tokens}. */
    public static Path defaultDirectory() {
        return Path.of(System.getProperty("user.home"), ".cache", "tessera", "tokens");
    }

    public Path directory() {
        return directory;
    }

    /** The cache file that holds {@code corpus} tokenized by {@code tokenizer} (it may not exist yet). */
    public Path fileFor(Corpus corpus, Tokenizer tokenizer) {
        return directory.resolve(HexFormat.of().formatHex(key(corpus, tokenizer), 0, 16) + ".tokens");
    }

    /**
     * The corpus's tokens: mapped from the cache file when a valid one exists, otherwise tokenized
     * now (reporting bytes read to {@code progress}), written atomically and then mapped.
     */
    public TokenizedCorpus load(Corpus corpus, Tokenizer tokenizer, Progress progress) {
        byte[] key = key(corpus, tokenizer);
        Path file = fileFor(corpus, tokenizer);
        String reason = null;
        if (Files.exists(file)) {
            try {
                return open(file, key, true, null);
            } catch (CorruptCacheException e) {
                reason = e.getMessage();
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // the rename below replaces it anyway
                }
            }
        }
        build(corpus, tokenizer, key, file, progress);
        try {
            return open(file, key, false, reason);
        } catch (CorruptCacheException e) {
            throw new UncheckedIOException(new IOException("TokenCache: the cache just written to " + file + " does not read back: " + e.getMessage()));
        }
    }

    static byte[] key(Corpus corpus, Tokenizer tokenizer) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            String head = "tessera-tokens v" + VERSION + "\ntokenizer " + tokenizer.id() + "\nvocab " + tokenizer.vocabSize()
                    + "\neod " + tokenizer.endOfDocument() + "\n";
            sha.update(head.getBytes(StandardCharsets.UTF_8));
            sha.update(corpus.identity().getBytes(StandardCharsets.UTF_8));
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------ write

    private void build(Corpus corpus, Tokenizer tokenizer, byte[] key, Path file, Progress progress) {
        int vocab = tokenizer.vocabSize();
        int eod = tokenizer.endOfDocument();
        if (eod < 0 || eod >= vocab) {
            throw new IllegalArgumentException("TokenCache: tokenizer " + tokenizer.id() + " has end-of-document id " + eod + " outside [0, " + vocab + ")");
        }
        int width = vocab <= 65536 ? 2 : 4;
        Path tmp = null;
        try {
            Files.createDirectories(directory);
            removeStaleTemporaries(file);
            tmp = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                Writer w = new Writer(ch);
                w.position = HEADER_BYTES;
                ch.position(HEADER_BYTES);
                long[][] starts = {new long[1024]};
                int[] docs = {0};
                long[] tokens = {0};
                Corpus.Scan scan = corpus.forEachDocument((entry, utf8, length) -> {
                    int[] ids = tokenizer.encodeUtf8(utf8, 0, length);
                    for (int t : ids) {
                        if (t < 0 || t >= vocab) {
                            throw new IllegalStateException("TokenCache: tokenizer " + tokenizer.id() + " produced id " + t + " outside [0, " + vocab + ") for " + entry.name());
                        }
                    }
                    if (width == 2) {
                        w.putShorts(ids);
                    } else {
                        w.putInts(ids);
                    }
                    tokens[0] += ids.length;
                    docs[0]++;
                    if (docs[0] == starts[0].length) {
                        starts[0] = Arrays.copyOf(starts[0], starts[0].length * 2);
                    }
                    starts[0][docs[0]] = tokens[0];
                }, progress);
                int numDocs = docs[0];
                long numTokens = tokens[0];
                w.pad8();
                for (int d = 0; d <= numDocs; d++) {
                    w.putLong(starts[0][d]);
                }
                w.flush();
                ByteBuffer h = header(width, vocab, eod, numTokens, numDocs, scan.skipped(), key, w.crc.getValue());
                ch.write(h, 0);
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
            FileSync.directory(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("TokenCache: writing " + file + " failed: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: a stray .tmp file is never read
                }
            }
        }
    }

    /** Deletes this key's temporary files left by a crashed build (over an hour old, so never a live one). */
    private void removeStaleTemporaries(Path file) {
        long cutoff = System.currentTimeMillis() - 3_600_000L;
        try (var stale = Files.newDirectoryStream(directory, file.getFileName() + "*.tmp")) {
            for (Path p : stale) {
                if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException ignored) {
            // best effort: stray temporaries are never read
        }
    }

    private static ByteBuffer header(int width, int vocab, int eod, long numTokens, int numDocs, int skipped, byte[] key, long payloadCrc) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        h.put(MAGIC).putInt(VERSION).putInt(width).putInt(vocab).putInt(eod).putLong(numTokens).putInt(numDocs).putInt(skipped)
                .put(key).putLong(payloadCrc);
        CRC32C crc = new CRC32C();
        crc.update(h.array(), 0, HEADER_CRC_AT);
        h.putInt((int) crc.getValue());
        h.clear();
        return h;
    }

    /** Buffered little-endian writes with a running CRC32C of everything written. */
    private static final class Writer {
        final FileChannel ch;
        final ByteBuffer buf = ByteBuffer.allocateDirect(WRITE_BUFFER).order(ByteOrder.LITTLE_ENDIAN);
        final CRC32C crc = new CRC32C();
        long position;

        Writer(FileChannel ch) {
            this.ch = ch;
        }

        void putShorts(int[] ids) throws IOException {
            for (int t : ids) {
                if (buf.remaining() < 2) {
                    flush();
                }
                buf.putShort((short) t);
            }
        }

        void putInts(int[] ids) throws IOException {
            for (int t : ids) {
                if (buf.remaining() < 4) {
                    flush();
                }
                buf.putInt(t);
            }
        }

        void putLong(long v) throws IOException {
            if (buf.remaining() < 8) {
                flush();
            }
            buf.putLong(v);
        }

        void pad8() throws IOException {
            while ((position + buf.position()) % 8 != 0) {
                if (!buf.hasRemaining()) {
                    flush();
                }
                buf.put((byte) 0);
            }
        }

        void flush() throws IOException {
            buf.flip();
            crc.update(buf.duplicate());
            position += buf.remaining();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
    }

    // ------------------------------------------------------------------------------------- read

    static final class CorruptCacheException extends Exception {
        CorruptCacheException(String message) {
            super(message);
        }
    }

    private static TokenizedCorpus open(Path file, byte[] key, boolean fromCache, String rebuildReason) throws CorruptCacheException {
        MemorySegment all;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) {
                throw new CorruptCacheException(file + " is truncated (" + size + " bytes, header alone is " + HEADER_BYTES + ")");
            }
            all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
        } catch (NoSuchFileException e) {
            throw new CorruptCacheException(file + " vanished");
        } catch (IOException e) {
            throw new CorruptCacheException(file + " cannot be read: " + e.getMessage());
        }
        ByteBuffer h = all.asSlice(0, HEADER_BYTES).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        h.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptCacheException(file + " is not a token cache (bad magic)");
        }
        byte[] headBytes = new byte[HEADER_CRC_AT];
        h.get(0, headBytes);
        CRC32C headCrc = new CRC32C();
        headCrc.update(headBytes);
        if ((int) headCrc.getValue() != h.getInt(HEADER_CRC_AT)) {
            throw new CorruptCacheException(file + " has a corrupt header (checksum mismatch)");
        }
        int version = h.getInt(8);
        int width = h.getInt(12);
        int vocab = h.getInt(16);
        int eod = h.getInt(20);
        long numTokens = h.getLong(24);
        int numDocs = h.getInt(32);
        int skipped = h.getInt(36);
        byte[] storedKey = new byte[32];
        h.get(40, storedKey);
        long payloadCrc = h.getLong(72);
        if (version != VERSION) {
            throw new CorruptCacheException(file + " has format version " + version + ", expected " + VERSION);
        }
        if (!Arrays.equals(storedKey, key)) {
            throw new CorruptCacheException(file + " belongs to another corpus or tokenizer (key mismatch)");
        }
        if ((width != 2 && width != 4) || numTokens < 0 || numDocs < 0 || eod < 0 || eod >= vocab) {
            throw new CorruptCacheException(file + " has an invalid header");
        }
        long tokenEnd = HEADER_BYTES + numTokens * width;
        long startsAt = (tokenEnd + 7) & ~7L;
        long expected = startsAt + 8L * (numDocs + 1);
        if (all.byteSize() != expected) {
            throw new CorruptCacheException(file + " is " + all.byteSize() + " bytes, expected " + expected + " (truncated or overwritten)");
        }
        CRC32C crc = new CRC32C();
        for (long at = HEADER_BYTES; at < expected; at += 1 << 30) {
            crc.update(all.asSlice(at, Math.min(1L << 30, expected - at)).asByteBuffer());
        }
        if (crc.getValue() != payloadCrc) {
            throw new CorruptCacheException(file + " is corrupt (payload checksum mismatch)");
        }
        long[] starts = all.asSlice(startsAt, 8L * (numDocs + 1)).toArray(ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN));
        if (starts[0] != 0 || starts[numDocs] != numTokens) {
            throw new CorruptCacheException(file + " has inconsistent document starts");
        }
        for (int d = 0; d < numDocs; d++) {
            if (starts[d + 1] < starts[d]) {
                throw new CorruptCacheException(file + " has decreasing document starts");
            }
        }
        MemorySegment tokens = all.asSlice(HEADER_BYTES, numTokens * width);
        return new TokenizedCorpus(tokens, width, starts, vocab, eod, file, fromCache, skipped, rebuildReason);
    }
}
