package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Round trips, byte-exact fixtures against the format, and one test per validation rule. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    // ---------------------------------------------------------------- helpers (shared with the fuzz test)

    static ValueLayout layout(DType dtype, ByteOrder order) {
        return switch (dtype) {
            case F32 -> ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
            case F64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order);
            case BF16, F16 -> ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
            case I32 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
            case I64 -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
            case BOOL -> ValueLayout.JAVA_BYTE;
        };
    }

    /** Random little-endian bytes for {@code n} elements (any bit pattern, NaN payloads included; BOOL 0/1). */
    static byte[] randomBytes(Random r, DType dtype, int n) {
        byte[] b = new byte[n * dtype.byteSize()];
        r.nextBytes(b);
        if (dtype == DType.BOOL) {
            for (int i = 0; i < b.length; i++) {
                b[i] &= 1;
            }
        }
        return b;
    }

    /** A heap tensor whose elements have exactly the given little-endian bits. */
    static Tensor fromLeBytes(DType dtype, byte[] le, int... shape) {
        int n = le.length / dtype.byteSize();
        Storage s = Storage.allocate(dtype, n);
        MemorySegment.copy(MemorySegment.ofArray(le), layout(dtype, ByteOrder.LITTLE_ENDIAN), 0, s.segment(),
                layout(dtype, ByteOrder.nativeOrder()), 0, n);
        return Tensor.of(s, shape);
    }

    /** The bytes a tensor read from a file views (its storage is the mapped slice). */
    static byte[] mappedBytes(Tensor t) {
        assertEquals(null, t.storage().array(), "read tensors must be views of the mapping, not copies");
        return t.storage().segment().toArray(ValueLayout.JAVA_BYTE);
    }

    /** 8-byte little-endian length, then the header, then the data: the format, by hand. */
    static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).put(data).array();
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private Path put(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    /** Both readers reject the file with the same one-line message, which names the file; returns it. */
    private String rejects(byte[] bytes, String fragment) throws IOException {
        Path p = put(bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(p));
        String m = e.getMessage();
        assertTrue(m.startsWith("safetensors: " + p + ": "), m);
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains(fragment), () -> "expected '" + fragment + "' in: " + m);
        if (!fragment.contains("Tessera tensor can hold")) { // the metadata reader does not check Java's size limits
            assertEquals(m, assertThrows(IllegalArgumentException.class, () -> SafeTensors.readMetadata(p)).getMessage());
        }
        return m.substring(("safetensors: " + p + ": ").length());
    }

    private static String one(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    // ---------------------------------------------------------------- round trips

    @ParameterizedTest
    @EnumSource(DType.class)
    void roundTripsEveryDtypeBitExactlyIncludingScalarsAndEmptyTensors(DType dtype) throws IOException {
        Random r = new Random(dtype.ordinal());
        byte[] matrix = randomBytes(r, dtype, 12);
        byte[] scalar = randomBytes(r, dtype, 1);
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("matrix", fromLeBytes(dtype, matrix, 3, 4));
        in.put("scalar", fromLeBytes(dtype, scalar));
        in.put("empty", fromLeBytes(dtype, new byte[0], 2, 0, 3));
        Path p = dir.resolve("rt.safetensors");
        SafeTensors.write(p, in, Map.of("format", "pt"));

        Map<String, Tensor> out = SafeTensors.read(p);
        assertEquals(List.of("empty", "matrix", "scalar"), List.copyOf(out.keySet()), "data order = name order within a dtype");
        assertArrayEquals(new int[] {3, 4}, out.get("matrix").shape());
        assertArrayEquals(new int[] {}, out.get("scalar").shape());
        assertArrayEquals(new int[] {2, 0, 3}, out.get("empty").shape());
        assertEquals(dtype, out.get("matrix").dtype());
        assertArrayEquals(matrix, mappedBytes(out.get("matrix")));
        assertArrayEquals(scalar, mappedBytes(out.get("scalar")));
        assertEquals(0, mappedBytes(out.get("empty")).length);
        assertEquals(in.get("matrix").getDouble(2, 3), out.get("matrix").getDouble(2, 3), 0.0);
        assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(p));

        // Re-writing what we read (mapped storage) reproduces the file exactly.
        Path again = dir.resolve("again.safetensors");
        SafeTensors.write(again, out, Map.of("format", "pt"));
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(again));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void nonContiguousInputsAreWrittenAsTheirContiguousCopy(DType dtype) throws IOException {
        int size = dtype.byteSize();
        byte[] le = randomBytes(new Random(7 + dtype.ordinal()), dtype, 12);
        Tensor t = fromLeBytes(dtype, le, 3, 4).transpose(0, 1); // shape [4, 3]
        Tensor sliced = fromLeBytes(dtype, le, 3, 4).narrow(1, 1, 2); // offset 1, strides [4, 1]
        Tensor rows = fromLeBytes(dtype, le, 3, 4).narrow(0, 1, 2); // contiguous, but at offset 4
        assertFalse(t.isContiguous());
        assertTrue(rows.isContiguous());
        Path p = dir.resolve("nc.safetensors");
        SafeTensors.write(p, Map.of("t", t, "s", sliced, "r", rows), null);
        Map<String, Tensor> out = SafeTensors.read(p);

        byte[] expectT = new byte[le.length];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                System.arraycopy(le, (j * 4 + i) * size, expectT, (i * 3 + j) * size, size);
            }
        }
        byte[] expectS = new byte[6 * size];
        for (int i = 0; i < 3; i++) {
            System.arraycopy(le, (i * 4 + 1) * size, expectS, i * 2 * size, 2 * size);
        }
        assertArrayEquals(new int[] {4, 3}, out.get("t").shape());
        assertArrayEquals(expectT, mappedBytes(out.get("t")));
        assertArrayEquals(expectS, mappedBytes(out.get("s")));
        assertArrayEquals(java.util.Arrays.copyOfRange(le, 4 * size, 12 * size), mappedBytes(out.get("r")));
        assertEquals(Map.of(), SafeTensors.readMetadata(p));
    }

    @Test
    void metadataWithEscapesAndUnicodeRoundTrips() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("quote\"back\\slash", "line\nbreak\ttab\u0001ctl");
        meta.put("ünïcødé 🙂", "");
        meta.put("", "empty key");
        Path p = dir.resolve("meta.safetensors");
        SafeTensors.write(p, Map.of("wé\"ird/name", Tensor.of(new float[] {1, 2}, 2)), meta);
        assertEquals(meta, SafeTensors.readMetadata(p));
        assertEquals(3.0, SafeTensors.read(p).get("wé\"ird/name").storage().getDouble(0)
                + SafeTensors.read(p).get("wé\"ird/name").storage().getDouble(1), 0.0);
        String header = new String(Files.readAllBytes(p), 8, 100, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"\":\"empty key\",\"quote\\\"back\\\\slash\":\"line\\nbreak\\ttab\\u0001ctl\""),
                header);
    }

    @Test
    void writeReplacesAtomicallyAndRejectsReservedNamesWithoutTouchingTheTarget() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafeTensors.write(p, Map.of("a", Tensor.of(new float[] {1}, 1)), null);
        SafeTensors.write(p, Map.of("b", Tensor.of(new double[] {2, 3}, 2)), null);
        assertEquals(List.of("b"), List.copyOf(SafeTensors.read(p).keySet()));
        byte[] before = Files.readAllBytes(p);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(p, Map.of("__metadata__", Tensor.of(new float[] {1}, 1)), null));
        assertTrue(e.getMessage().startsWith("safetensors: write " + p + ": tensor name '__metadata__' is reserved"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList(), "no temporary files are left behind");
        }
    }

    @Test
    void readTensorsAreReadOnlyViewsSoWritesMustGoToACopy() throws IOException {
        Path p = dir.resolve("ro.safetensors");
        SafeTensors.write(p, Map.of("a", Tensor.of(new float[] {1, 2}, 2)), null);
        Tensor a = SafeTensors.read(p).get("a");
        // The JDK refuses writes to a read-only mapping (its message: "Attempt to write a read-only segment").
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.set(5, 0));
        assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        assertEquals(1.0, a.getDouble(0), 0.0);
        Tensor c = a.copy();
        c.set(5, 0);
        assertEquals(5.0, c.getDouble(0), 0.0);
    }

    // ---------------------------------------------------------------- byte-exact fixtures

    @Test
    void handMadeFileReadsAndOurWriterProducesTheSameBytes() throws IOException {
        // The reference serializer's own example: no padding needed (the header is exactly 64 bytes).
        String header = "{" + one("attn.0", "F32", "[1,2,3]", "[0,24]") + "}";
        assertEquals(64, header.length());
        byte[] expected = file(header, f32(0, 1, 2, 3, 4, 5));
        Tensor t = SafeTensors.read(put(expected)).get("attn.0");
        assertArrayEquals(new int[] {1, 2, 3}, t.shape());
        assertEquals(5.0f, t.getFloat(0, 1, 2));
        assertEquals(3.0f, t.getFloat(0, 1, 0));

        Path ours = dir.resolve("ours.safetensors");
        SafeTensors.write(ours, Map.of("attn.0", Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 2, 3)), null);
        assertArrayEquals(expected, Files.readAllBytes(ours));
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOfEight() throws IOException {
        String header = "{" + one("attn0", "F32", "[1,1,2,3]", "[0,24]") + "}";
        assertEquals(65, header.length());
        byte[] expected = file(header + "       ", f32(0, 1, 2, 3, 4, 5));
        Path ours = dir.resolve("pad.safetensors");
        SafeTensors.write(ours, Map.of("attn0", Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 1, 1, 2, 3)), null);
        assertArrayEquals(expected, Files.readAllBytes(ours));
        assertEquals(72, ByteBuffer.wrap(expected).order(ByteOrder.LITTLE_ENDIAN).getLong());

        Path empty = dir.resolve("empty.safetensors");
        SafeTensors.write(empty, Map.of(), null);
        assertArrayEquals(file("{}      ", new byte[0]), Files.readAllBytes(empty));
        SafeTensors.write(empty, Map.of(), Map.of("framework", "pt"));
        assertArrayEquals(file("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]), Files.readAllBytes(empty));
        assertEquals(Map.of(), SafeTensors.read(empty));
    }

    @Test
    void tensorsAreOrderedByDescendingAlignmentThenNameAsTheReferenceDoes() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a", Tensor.of(new boolean[] {true, false, true}, 3));
        in.put("c", Tensor.of(new float[] {1.5f}, 1));
        in.put("b", Tensor.of(new float[] {-2f}));
        in.put("d", Tensor.of(new long[] {-1}, 1));
        String header = "{" + one("d", "I64", "[1]", "[0,8]") + "," + one("b", "F32", "[]", "[8,12]") + ","
                + one("c", "F32", "[1]", "[12,16]") + "," + one("a", "BOOL", "[3]", "[16,19]") + "}";
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).array());
        data.writeBytes(f32(-2f, 1.5f));
        data.writeBytes(new byte[] {1, 0, 1});
        String padded = header + " ".repeat((8 - header.length() % 8) % 8);
        Path ours = dir.resolve("order.safetensors");
        SafeTensors.write(ours, in, null);
        assertArrayEquals(file(padded, data.toByteArray()), Files.readAllBytes(ours));
        Map<String, Tensor> out = SafeTensors.read(ours);
        assertEquals(List.of("d", "b", "c", "a"), List.copyOf(out.keySet()));
        assertEquals(-1L, out.get("d").getLong(0));
        assertEquals(1.0, out.get("a").getDouble(2), 0.0);
    }

    // ---------------------------------------------------------------- validation, one rule each

    @Test
    void fileShorterThanTheLengthPrefix() throws IOException {
        rejects(new byte[] {8, 0, 0}, "file of 3 bytes is shorter than the 8-byte header length");
    }

    @Test
    void headerTooLarge() throws IOException {
        byte[] b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(100_000_001L).array();
        rejects(b, "header length 100000001 exceeds the limit of 100000000 bytes");
        byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array();
        rejects(huge, "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        byte[] b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(13).array();
        rejects(b, "header length 13 runs past the end of the 20-byte file");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] h = "{\"a\u00ff\":1}".getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array();
        rejects(b, "header is not valid UTF-8");
    }

    @Test
    void headerNotJson() throws IOException {
        rejects(file("{\"a\":", new byte[0]), "header is not valid JSON: unexpected end of input, expected a value");
        rejects(file("{\"a\":{}}x", new byte[0]), "unexpected 'x' after the top-level value");
        rejects(file("{\"a\":[1,]}", new byte[0]), "header is not valid JSON");
        rejects(file("{\"a\":01}", new byte[0]), "leading zero");
        rejects(file("{\"a\":\"\\ud800\"}", new byte[0]), "lone high surrogate");
        rejects(file("{\"a\":" + "[".repeat(100) + "]".repeat(100) + "}", new byte[0]), "nesting deeper than 64 levels");
    }

    @Test
    void headerNotAnObject() throws IOException {
        rejects(file("[1, 2]  ", new byte[0]), "header must be a JSON object starting with '{' but starts with byte 0x5b");
        rejects(file(" {}     ", new byte[0]), "starts with byte 0x20");
        rejects(file("", new byte[0]), "header must be a JSON object starting with '{' but is empty");
    }

    @Test
    void duplicateKeys() throws IOException {
        String t = one("a", "F32", "[1]", "[0,4]");
        rejects(file("{" + t + "," + t + "}", f32(1)), "duplicate key \"a\"");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)),
                "duplicate key \"dtype\"");
        rejects(file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", new byte[0]), "duplicate key \"k\"");
    }

    @Test
    void badDtype() throws IOException {
        rejects(file("{" + one("w", "Q8", "[1]", "[0,1]") + "}", new byte[1]), "tensor 'w' has unknown dtype 'Q8'");
        rejects(file("{" + one("w", "U8", "[1]", "[0,1]") + "}", new byte[1]),
                "tensor 'w' has dtype U8, which Tessera does not support (supported: [F32, F64, BF16, F16, I32, I64, BOOL])");
        rejects(file("{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "dtype must be a string, got number");
    }

    @Test
    void badShape() throws IOException {
        rejects(file("{" + one("w", "F32", "[-1]", "[0,4]") + "}", f32(1)),
                "tensor 'w' shape must be an array of non-negative integers, but element 0 is -1");
        rejects(file("{" + one("w", "F32", "[1.0]", "[0,4]") + "}", f32(1)), "but element 0 is 1.0");
        rejects(file("{" + one("w", "F32", "[99999999999999999999]", "[0,4]") + "}", f32(1)), "element 0 is 99999999999999999999");
        rejects(file("{" + one("w", "F32", "\"2\"", "[0,4]") + "}", f32(1)), "shape must be an array of non-negative integers, got string");
        rejects(file("{" + one("w", "F32", "[4294967296,4294967296]", "[0,4]") + "}", f32(1)),
                "tensor 'w' shape [4294967296, 4294967296] of F32 overflows a 64-bit byte count");
    }

    @Test
    void badEntryStructure() throws IOException {
        rejects(file("{\"w\":[1]}", new byte[0]), "tensor 'w' must be an object with dtype, shape and data_offsets, got array");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", f32(1)),
                "tensor 'w' has unknown field 'x'");
        rejects(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", f32(1)), "tensor 'w' is missing field 'shape'");
        rejects(file("{" + one("w", "F32", "[1]", "[0,4,8]") + "}", f32(1, 2)), "data_offsets must be [begin, end] but has 3 elements");
        rejects(file("{" + one("w", "F32", "[0]", "[4,0]") + "}", f32(1)), "tensor 'w' data_offsets [4, 0] begin after they end");
    }

    @Test
    void offsetsMismatchShapeTimesDtypeSize() throws IOException {
        String m = rejects(file("{" + one("w", "F32", "[2,2]", "[0,12]") + "}", new byte[12]), "tensor 'w'");
        assertEquals("tensor 'w' data_offsets [0, 12] hold 12 bytes but shape [2, 2] of F32 needs 16", m);
    }

    @Test
    void gapBetweenTensors() throws IOException {
        String h = "{" + one("a", "F32", "[1]", "[0,4]") + "," + one("b", "F32", "[1]", "[8,12]") + "}";
        rejects(file(h, new byte[12]), "tensor 'b' data_offsets [8, 12] leave a gap: the previous tensor ends at byte 4");
        rejects(file("{" + one("a", "F32", "[1]", "[4,8]") + "}", new byte[8]), "tensor 'a' data_offsets [4, 8] leave a gap");
    }

    @Test
    void overlappingTensors() throws IOException {
        String h = "{" + one("a", "F32", "[2]", "[0,8]") + "," + one("b", "F32", "[2]", "[4,12]") + "}";
        rejects(file(h, new byte[12]), "tensor 'b' data_offsets [4, 12] overlap the previous tensor, which ends at byte 8");
    }

    @Test
    void trailingBytesAfterTheLastTensor() throws IOException {
        rejects(file("{" + one("a", "F32", "[1]", "[0,4]") + "}", new byte[5]),
                "data section has 5 bytes but the tensors cover only 4 (trailing bytes after the last tensor)");
        rejects(file("{}", new byte[1]), "data section has 1 bytes but the tensors cover only 0");
    }

    @Test
    void badMetadata() throws IOException {
        rejects(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__ value for key 'k' must be a string, got number");
        rejects(file("{\"__metadata__\":[\"k\"]}", new byte[0]), "__metadata__ must be an object of strings, got array");
        rejects(file("{\"__metadata__\":null}", new byte[0]), "__metadata__ must be an object of strings, got null");
    }

    @Test
    void truncatedFile() throws IOException {
        Path p = dir.resolve("full.safetensors");
        SafeTensors.write(p, Map.of("w", Tensor.of(new float[] {1, 2, 3}, 3)), null);
        byte[] full = Files.readAllBytes(p);
        byte[] cut = java.util.Arrays.copyOf(full, full.length - 4);
        rejects(cut, "tensor 'w' data_offsets [0, 12] run past the end of the 8-byte data section");
        rejects(java.util.Arrays.copyOf(full, 20), "runs past the end of the 20-byte file");
    }

    @Test
    void validFilesBeyondTesserasLimitsAreRejectedCleanly() throws IOException {
        byte[] b = file("{\"__metadata__\":{\"k\":\"v\"}," + one("w", "BOOL", "[0,3000000000]", "[0,0]") + "}", new byte[0]);
        rejects(b, "tensor 'w' shape [0, 3000000000] has more elements than a Tessera tensor can hold");
        assertEquals(Map.of("k", "v"), SafeTensors.readMetadata(put(b)), "the file itself is valid");
    }

    @Test
    void namesInMessagesStayOnOneLine() throws IOException {
        String m = rejects(file("{" + one("a\\nb", "Q1", "[1]", "[0,1]") + "}", new byte[1]), "unknown dtype");
        assertTrue(m.contains("tensor 'a\\u000ab'"), m);
    }
}
