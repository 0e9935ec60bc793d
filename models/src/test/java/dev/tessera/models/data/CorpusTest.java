package dev.tessera.models.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
    @TempDir
    Path tmp;

    record Doc(String name, String text) { }

    static List<Doc> read(Corpus c) {
        List<Doc> docs = new ArrayList<>();
        c.forEachDocument((e, utf8, n) -> docs.add(new Doc(e.name(), new String(utf8, 0, n, StandardCharsets.UTF_8))), Progress.NONE);
        return docs;
    }

    @Test
    void singleFileIsOneDocument() throws IOException {
        Path f = Files.writeString(tmp.resolve("a.txt"), "héllo\nworld 😀");
        Corpus c = Corpus.open(f);
        assertEquals(List.of(new Doc("a.txt", "héllo\nworld 😀")), read(c));
        assertEquals(Files.size(f), c.totalBytes());
    }

    @Test
    void directoryIsSortedRecursiveAndSkipsBinaryFiles() throws IOException {
        // created in an order unlike the sorted one, so listing order cannot leak through
        Files.createDirectories(tmp.resolve("b/sub"));
        Files.createDirectories(tmp.resolve(".git"));
        Files.writeString(tmp.resolve("b/sub/z.txt"), "z");
        Files.writeString(tmp.resolve("c.txt"), "c");
        Files.writeString(tmp.resolve("a.txt"), "a");
        Files.writeString(tmp.resolve("b/y.txt"), "y");
        Files.writeString(tmp.resolve(".git/config"), "hidden");
        Files.write(tmp.resolve("b/bin.dat"), new byte[] {1, 2, 0, 3});
        Files.write(tmp.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        Files.write(tmp.resolve("empty.txt"), new byte[0]);
        Corpus c = Corpus.open(tmp);
        List<Doc> docs = new ArrayList<>();
        Corpus.Scan scan = c.forEachDocument((e, utf8, n) -> docs.add(new Doc(e.name(), new String(utf8, 0, n, StandardCharsets.UTF_8))), Progress.NONE);
        assertEquals(List.of(new Doc("a.txt", "a"), new Doc("b/sub/z.txt", "z"), new Doc("b/y.txt", "y"), new Doc("c.txt", "c")), docs);
        assertEquals(2, scan.skipped());
        assertEquals(List.of("b/bin.dat", "latin1.txt"), scan.skippedNames());
        assertEquals(4, scan.documents());
    }

    @Test
    void zipEntriesAreSortedAndFilteredByPrefix() throws IOException {
        Path zip = tmp.resolve("docs.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String[] e : new String[][] {{"p/b.txt", "bee"}, {"q/x.txt", "other"}, {"p/a.txt", "ay"}, {"p/dir/", null}}) {
                out.putNextEntry(new ZipEntry(e[0]));
                if (e[1] != null) {
                    out.write(e[1].getBytes(StandardCharsets.UTF_8));
                }
                out.closeEntry();
            }
        }
        assertEquals(List.of(new Doc("p/a.txt", "ay"), new Doc("p/b.txt", "bee"), new Doc("q/x.txt", "other")), read(Corpus.open(zip)));
        assertEquals(List.of(new Doc("p/a.txt", "ay"), new Doc("p/b.txt", "bee")), read(Corpus.zip(zip, "p/")));
        assertNotEquals(Corpus.zip(zip, "p/").identity(), Corpus.zip(zip, "").identity());
    }

    @Test
    void identityTracksSizesAndMtimes() throws IOException {
        Path f = Files.writeString(tmp.resolve("a.txt"), "one");
        String before = Corpus.open(tmp).identity();
        assertEquals(before, Corpus.open(tmp).identity());
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 5000));
        assertNotEquals(before, Corpus.open(tmp).identity());
    }

    @Test
    void badPathsFailWithOneLine() throws IOException {
        var missing = assertThrows(IllegalArgumentException.class, () -> Corpus.open(tmp.resolve("nope")));
        assertTrue(missing.getMessage().contains("nope") && missing.getMessage().contains("expected"), missing.getMessage());
        Path gz = Files.writeString(tmp.resolve("data.tar.gz"), "x");
        var archive = assertThrows(IllegalArgumentException.class, () -> Corpus.open(gz));
        assertTrue(archive.getMessage().contains("data.tar.gz") && archive.getMessage().contains("not supported"), archive.getMessage());
        Path fakeZip = Files.writeString(tmp.resolve("fake.zip"), "not a zip");
        assertThrows(IllegalArgumentException.class, () -> Corpus.open(fakeZip));
        Path bin = Files.write(tmp.resolve("blob.bin"), new byte[] {0, 1, 2});
        assertThrows(IllegalArgumentException.class, () -> Corpus.open(bin));
        Path latin = Files.write(tmp.resolve("latin.txt"), new byte[] {(byte) 0xE9, 'x'});
        assertThrows(IllegalArgumentException.class, () -> read(Corpus.open(latin)));
        Path emptyDir = Files.createDirectories(tmp.resolve("empty"));
        assertThrows(IllegalArgumentException.class, () -> Corpus.open(emptyDir));
        for (var e : List.of(missing, archive)) {
            assertTrue(!e.getMessage().contains("\n"));
        }
    }

    @Test
    void defaultIsJavaBaseOfTheJdkSources() {
        Path src = Corpus.jdkSourceZip();
        if (!Files.isRegularFile(src)) {
            System.out.println("skipped: " + src + " is absent (this JDK ships without sources)");
        }
        Assumptions.assumeTrue(Files.isRegularFile(src), () -> src + " is absent (this JDK ships without sources)");
        Corpus c = Corpus.open(null);
        int n = c.entries().size();
        assertTrue(n >= 3000 && n <= 4000, "java.base files: " + n);
        assertTrue(c.entries().stream().allMatch(e -> e.name().startsWith("java.base/")));
        long bytes = c.totalBytes();
        assertTrue(bytes > 20_000_000 && bytes < 100_000_000, "bytes: " + bytes);
        assertTrue(c.entries().stream().anyMatch(e -> e.name().equals("java.base/java/lang/Object.java")));
        long[] progress = {0, 0};
        Corpus.Scan scan = c.forEachDocument((e, utf8, len) -> { }, (done, total) -> {
            progress[0] = done;
            progress[1] = total;
        });
        assertTrue(scan.documents() >= 3000 && scan.documents() <= 4000, "documents: " + scan.documents());
        assertEquals(n, scan.documents() + scan.skipped());
        assertTrue(scan.bytes() > 20_000_000, "bytes read: " + scan.bytes());
        assertEquals(bytes, progress[0]);
        assertEquals(bytes, progress[1]);
    }
}
