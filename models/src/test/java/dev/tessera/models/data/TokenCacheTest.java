package dev.tessera.models.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.tokenizer.ByteTokenizer;
import dev.tessera.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCacheTest {
    @TempDir
    Path tmp;

    /** Counts progress calls, so a cache hit (no tokenizing) shows as zero. */
    static final class Counter implements Progress {
        final AtomicLong calls = new AtomicLong();
        long lastDone;
        long lastTotal;

        @Override
        public void update(long done, long total) {
            calls.incrementAndGet();
            assertTrue(done >= lastDone && done <= total);
            lastDone = done;
            lastTotal = total;
        }
    }

    /** A tokenizer with a vocabulary over 65536, to exercise int32 storage, and a distinct id. */
    static final class WideTokenizer implements Tokenizer {
        @Override public int[] encode(String text) {
            return text.codePoints().toArray();
        }
        @Override public String decode(int[] tokens) {
            return new String(tokens, 0, tokens.length);
        }
        @Override public int vocabSize() {
            return 0x110001;
        }
        @Override public int endOfDocument() {
            return 0x110000;
        }
        @Override public String id() {
            return "codepoint-test";
        }
    }

    private Path data() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(dir.resolve("a.txt"), "first document\n");
        Files.writeString(dir.resolve("b.txt"), "second, with ünïcode 😀");
        Files.writeString(dir.resolve("c.txt"), "x".repeat(5000));
        return dir;
    }

    private static int[] all(TokenizedCorpus t) {
        int[] out = new int[Math.toIntExact(t.numTokens())];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.token(i);
        }
        return out;
    }

    @Test
    void secondLoadIsMappedFromCacheWithoutTokenizing() throws IOException {
        Path dir = data();
        TokenCache cache = new TokenCache(tmp.resolve("cache"));
        // a temporary left by a crashed build is ignored, and removed once stale
        Path crashed = Files.createDirectories(cache.directory()).resolve(cache.fileFor(Corpus.open(dir), ByteTokenizer.INSTANCE).getFileName() + "123.tmp");
        Files.writeString(crashed, "half-written");
        Files.setLastModifiedTime(crashed, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000L));
        Counter first = new Counter();
        TokenizedCorpus a = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, first);
        assertFalse(a.fromCache());
        assertEquals(3, first.calls.get());
        assertEquals(first.lastTotal, first.lastDone);
        assertEquals(3, a.numDocuments());
        assertEquals(2, a.tokenBytes());
        assertEquals("second, with ünïcode 😀", ByteTokenizer.INSTANCE.decode(a.document(1)));

        Counter second = new Counter();
        TokenizedCorpus b = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, second);
        assertTrue(b.fromCache());
        assertEquals(0, second.calls.get());
        assertArrayEquals(all(a), all(b));
        assertEquals(a.numDocuments(), b.numDocuments());
        for (int d = 0; d < a.numDocuments(); d++) {
            assertEquals(a.documentStart(d), b.documentStart(d));
        }
        try (Stream<Path> files = Files.list(cache.directory())) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void changedDataOrTokenizerInvalidates() throws IOException {
        Path dir = data();
        TokenCache cache = new TokenCache(tmp.resolve("cache"));
        TokenizedCorpus base = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        Path baseFile = base.file();

        Path a = dir.resolve("a.txt");
        Files.setLastModifiedTime(a, FileTime.fromMillis(Files.getLastModifiedTime(a).toMillis() + 10_000));
        TokenizedCorpus touched = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        assertFalse(touched.fromCache(), "a touched file invalidates");
        assertNotEquals(baseFile, touched.file());

        Files.writeString(a, "first document, edited\n");
        TokenizedCorpus edited = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        assertFalse(edited.fromCache());
        assertEquals("first document, edited\n", ByteTokenizer.INSTANCE.decode(edited.document(0)));

        WideTokenizer wide = new WideTokenizer();
        TokenizedCorpus other = cache.load(Corpus.open(dir), wide, Progress.NONE);
        assertFalse(other.fromCache(), "another tokenizer id invalidates");
        assertEquals(4, other.tokenBytes());
        assertEquals("second, with ünïcode 😀", wide.decode(other.document(1)));
        assertTrue(cache.load(Corpus.open(dir), wide, Progress.NONE).fromCache());
        assertTrue(cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE).fromCache());
    }

    @Test
    void truncatedOrCorruptCacheIsRebuiltNeverTrusted() throws IOException {
        Path dir = data();
        TokenCache cache = new TokenCache(tmp.resolve("cache"));
        TokenizedCorpus good = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        int[] expected = all(good);
        Path file = good.file();
        long size = Files.size(file);

        // truncated (a copy cut short, a full disk)
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size - 100);
        }
        assertRebuilt(cache, dir, expected, "truncated");

        // one flipped token byte: same length, so only the checksum can tell
        flipByte(file, TokenCache.HEADER_BYTES + 7);
        assertRebuilt(cache, dir, expected, "checksum");

        // a flipped header byte
        flipByte(file, 26);
        assertRebuilt(cache, dir, expected, "header");

        // garbage in place of the file
        Files.writeString(file, "not a cache at all, just some text that is long enough to hold a header".repeat(3));
        assertRebuilt(cache, dir, expected, "magic");

        // empty
        Files.write(file, new byte[0]);
        assertRebuilt(cache, dir, expected, "truncated");
    }

    private static void assertRebuilt(TokenCache cache, Path dir, int[] expected, String why) throws IOException {
        Counter progress = new Counter();
        TokenizedCorpus t = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, progress);
        assertFalse(t.fromCache());
        assertTrue(progress.calls.get() > 0, "re-tokenized");
        assertNotNull(t.rebuildReason());
        assertTrue(t.rebuildReason().contains(why), t.rebuildReason());
        assertArrayEquals(expected, all(t));
        TokenizedCorpus again = cache.load(Corpus.open(dir), ByteTokenizer.INSTANCE, Progress.NONE);
        assertTrue(again.fromCache());
        assertNull(again.rebuildReason());
    }

    private static void flipByte(Path file, long at) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) at] ^= 0x5A;
        Files.write(file, bytes);
    }
}
