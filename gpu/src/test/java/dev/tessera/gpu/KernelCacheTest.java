package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCacheTest {
    /** A compiler whose output is a function of its inputs, counting calls. */
    static final class FakeCompiler implements KernelCompiler {
        final AtomicInteger calls = new AtomicInteger();
        String identity = "fake-1.0";

        @Override
        public byte[] compile(String name, String source, List<String> options, String arch) {
            calls.incrementAndGet();
            return ("IMAGE[" + arch + "|" + options + "|" + source + "]").getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String identity() {
            return identity;
        }
    }

    private static final List<String> OPTS = List.of("--std=c++17");

    @Test
    void sameSourceAndArchHitsTheCache(@TempDir Path dir) {
        FakeCompiler c = new FakeCompiler();
        KernelCache cache = new KernelCache(dir, c);
        byte[] first = cache.get("k", "src", OPTS, "sm_90");
        assertArrayEquals(first, cache.get("k", "src", OPTS, "sm_90"));
        assertEquals(1, c.calls.get());
        assertEquals(1, cache.memoryHits());

        // a new process: same directory, empty memory
        KernelCache warm = new KernelCache(dir, c);
        assertArrayEquals(first, warm.get("k", "src", OPTS, "sm_90"));
        assertEquals(1, c.calls.get());
        assertEquals(1, warm.diskHits());
    }

    @Test
    void differentArchSourceOptionsOrCompilerRecompile(@TempDir Path dir) {
        FakeCompiler c = new FakeCompiler();
        KernelCache cache = new KernelCache(dir, c);
        cache.get("k", "src", OPTS, "sm_90");
        cache.get("k", "src", OPTS, "sm_80");
        cache.get("k", "src2", OPTS, "sm_90");
        cache.get("k", "src", List.of("--std=c++17", "-lineinfo"), "sm_90");
        assertEquals(4, c.calls.get());
        c.identity = "fake-2.0";
        cache.clearMemory();
        cache.get("k", "src", OPTS, "sm_90");
        assertEquals(5, c.calls.get());
    }

    @Test
    void keyIsSha256OfSourceAndOptionsPlusArch(@TempDir Path dir) {
        KernelCache cache = new KernelCache(dir, new FakeCompiler());
        Path p = cache.path("soft max", "src", OPTS, "sm_90");
        String h = KernelCache.hash("src", OPTS, "fake-1.0");
        assertEquals(64, h.length());
        assertEquals(dir.resolve("soft_max-" + h + "-sm_90.bin"), p);
        // field boundaries matter: ("ab", ["c"]) and ("a", ["bc"]) differ
        assertNotEquals(KernelCache.hash("ab", List.of("c"), "x"), KernelCache.hash("a", List.of("bc"), "x"));
        assertEquals(h, KernelCache.hash("src", OPTS, "fake-1.0"));
    }

    @Test
    void corruptEntryIsRecompiledAndReplaced(@TempDir Path dir) throws IOException {
        FakeCompiler c = new FakeCompiler();
        KernelCache cache = new KernelCache(dir, c);
        byte[] good = cache.get("k", "src", OPTS, "sm_90");
        Path file = cache.path("k", "src", OPTS, "sm_90");

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1; // flip a payload bit
        Files.write(file, bytes);
        KernelCache second = new KernelCache(dir, c);
        assertArrayEquals(good, second.get("k", "src", OPTS, "sm_90"));
        assertEquals(2, c.calls.get());
        assertEquals(1, second.corruptEntries());

        Files.write(file, new byte[] {1, 2, 3}); // truncated
        KernelCache third = new KernelCache(dir, c);
        assertArrayEquals(good, third.get("k", "src", OPTS, "sm_90"));
        assertEquals(3, c.calls.get());

        // the replaced entry is valid again
        KernelCache fourth = new KernelCache(dir, c);
        fourth.get("k", "src", OPTS, "sm_90");
        assertEquals(3, c.calls.get());
    }

    @Test
    void encodeDecodeRoundTripAndRejectsGarbage() {
        byte[] payload = "cubin bytes".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(payload, KernelCache.decode(KernelCache.encode(payload)));
        assertArrayEquals(new byte[0], KernelCache.decode(KernelCache.encode(new byte[0])));
        assertEquals(null, KernelCache.decode("hello".getBytes(StandardCharsets.UTF_8)));
        byte[] e = KernelCache.encode(payload);
        assertEquals(null, KernelCache.decode(java.util.Arrays.copyOf(e, e.length - 1)));
    }

    @Test
    void writesAreAtomic(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("entry.bin");
        KernelCache.writeAtomically(target, "old".getBytes(StandardCharsets.UTF_8));
        // a writer that fails after writing its temporary file leaves the old entry intact and no temp file
        Path[] seen = new Path[1];
        assertThrows(IOException.class, () -> KernelCache.writeAtomically(target, "new-but-failed".getBytes(StandardCharsets.UTF_8),
                temp -> {
                    seen[0] = temp;
                    assertEquals(temp.getParent(), target.getParent(), "temp file must be in the target's directory");
                    assertEquals("new-but-failed", Files.readString(temp));
                    assertEquals("old", Files.readString(target), "target untouched before the move");
                    throw new IOException("simulated crash");
                }));
        assertEquals("old", Files.readString(target));
        assertFalse(Files.exists(seen[0]));
        KernelCache.writeAtomically(target, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(target));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(target), files.toList());
        }
    }

    @Test
    void unwritableDirectoryOnlyCostsRecompiles(@TempDir Path dir) throws IOException {
        Path blocker = dir.resolve("file-not-dir");
        Files.writeString(blocker, "x");
        FakeCompiler c = new FakeCompiler();
        KernelCache cache = new KernelCache(blocker.resolve("cuda"), c);
        assertTrue(cache.get("k", "src", OPTS, "sm_90").length > 0);
        assertEquals(1, c.calls.get());
    }

    @Test
    void defaultDirectoryHonoursProperty() {
        String old = System.getProperty("tessera.cuda.cache");
        try {
            System.setProperty("tessera.cuda.cache", "/tmp/x-cache");
            assertEquals(Path.of("/tmp/x-cache"), KernelCache.defaultDirectory());
            System.clearProperty("tessera.cuda.cache");
            assertTrue(KernelCache.defaultDirectory().endsWith(Path.of("tessera", "cuda")));
        } finally {
            if (old != null) {
                System.setProperty("tessera.cuda.cache", old);
            }
        }
    }
}
