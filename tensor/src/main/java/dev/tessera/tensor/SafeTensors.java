package dev.tessera.tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian header length N, N bytes of UTF-8 JSON (an object mapping tensor names
 * to {@code {"dtype", "shape", "data_offsets"}} plus an optional {@code __metadata__} object of
 * strings), then the little-endian, row-major tensor data.
 *
 * <p>Reading memory-maps the file and returns tensors that are views of the mapping, so loading a
 * model costs page faults, not copies. Because the file is untrusted, the header is validated as
 * strictly as the Rust reference ({@code SafeTensors::read_metadata}) does before any tensor is
 * made: every failure is a {@link SafeTensorsException} with a one-line message, and nothing is
 * allocated beyond what the file's own length bounds. The mapping is read-only (write to a
 * {@link Tensor#copy()}); it lives as long as any returned tensor is reachable, and the file must
 * not be truncated while it is mapped (the OS would fault the access).
 *
 * <p>Writing produces the same bytes the reference serializer does: tensors ordered by descending
 * dtype alignment, then by name (so every tensor's data is aligned to its element size), header
 * padded with spaces to a multiple of 8, {@code __metadata__} first. It goes to a temporary file in
 * the target's directory that is fsynced and then atomically renamed, so a crash never leaves a
 * half-written file under the target name.
 */
public final class SafeTensors {
    /** The reference's cap; a larger header is treated as hostile rather than parsed. */
    static final long MAX_HEADER_LENGTH = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";
    private static final int COPY_CHUNK = 1 << 20;

    /** Dtypes the format defines but {@link DType} cannot hold; named so the error says why. */
    private static final Set<String> UNSUPPORTED_DTYPES = Set.of("U8", "I8", "I16", "U16", "U32", "U64", "F8_E5M2",
            "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64");

    private SafeTensors() {}

    /** One validated header entry. Shapes stay long until the Java limits are checked. */
    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private record Header(long length, Map<String, String> metadata, List<Entry> entries) {}

    // ---------------------------------------------------------------- reading

    /**
     * All tensors in {@code file}, in data order, as read-only views of a memory mapping (no data is
     * copied; writing to one fails with the JDK's read-only-segment error). Throws
     * {@link SafeTensorsException} if the file breaks any rule of the format or holds a tensor too
     * large for a Tessera {@link Storage} (2^31 - 9 elements).
     */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch);
        } catch (SafeTensorsException e) {
            throw e.in(file);
        }
    }

    private static Map<String, Tensor> read(FileChannel ch) throws IOException {
        long size = ch.size();
        Header h = readHeader(ch, size);
        // Arena.ofAuto: the mapping is released when the last tensor viewing it is collected.
        MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, Arena.ofAuto());
        long dataStart = 8 + h.length();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Entry e : h.entries()) {
            int[] shape = javaShape(e);
            MemorySegment bytes = mapped.asSlice(dataStart + e.begin(), e.end() - e.begin());
            out.put(e.name(), Tensor.of(Storage.ofSegment(e.dtype(), bytes), shape));
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * The {@code __metadata__} map of {@code file} (empty if it has none). The whole header is
     * validated against the format, as by {@link #read}, but no data is mapped, so a valid file whose
     * tensors exceed Tessera's 2^31-element limit still yields its metadata.
     */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, ch.size()).metadata();
        } catch (SafeTensorsException e) {
            throw e.in(file);
        }
    }

    private static Header readHeader(FileChannel ch, long fileSize) throws IOException {
        if (fileSize < 8) {
            throw new SafeTensorsException("file of " + fileSize + " bytes is shorter than the 8-byte header length");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lengthBytes, 0);
        long n = lengthBytes.getLong(0);
        if (n < 0 || n > MAX_HEADER_LENGTH) { // n < 0: an unsigned value of 2^63 or more
            throw new SafeTensorsException("header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                    + MAX_HEADER_LENGTH + " bytes");
        }
        if (n > fileSize - 8) {
            throw new SafeTensorsException("header length " + n + " runs past the end of the " + fileSize + "-byte file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) n); // bounded by the cap and the file size
        readFully(ch, headerBytes, 8);
        Header h = parseHeader(headerBytes, n);
        return new Header(n, h.metadata(), checkLayout(h.entries(), fileSize - 8 - n));
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) {
                throw new SafeTensorsException("file ended while reading the header (was it truncated concurrently?)");
            }
        }
        buf.flip();
    }

    /** Decodes, parses and checks each entry on its own; {@link #checkLayout} checks them together. */
    private static Header parseHeader(ByteBuffer bytes, long n) {
        CharBuffer text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException("header is not valid UTF-8 (" + e.getMessage() + ")");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafeTensorsException("header must be a JSON object starting with '{' but "
                    + (text.isEmpty() ? "is empty" : "starts with byte 0x" + String.format("%02x", bytes.get(0) & 0xff)));
        }
        Object root = StrictJson.parse(text);
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafeTensorsException("header must be a JSON object, got " + StrictJson.typeName(root));
        }
        Map<String, String> metadata = Map.of();
        List<Entry> entries = new ArrayList<>(top.size());
        for (Map.Entry<?, ?> kv : top.entrySet()) {
            String name = (String) kv.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(kv.getValue());
            } else {
                entries.add(entry(name, kv.getValue()));
            }
        }
        return new Header(n, metadata, entries);
    }

    private static Map<String, String> metadata(Object value) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafeTensorsException("__metadata__ must be an object of strings, got " + StrictJson.typeName(value));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> kv : m.entrySet()) {
            if (!(kv.getValue() instanceof String v)) {
                throw new SafeTensorsException("__metadata__ value for key '" + q((String) kv.getKey()) + "' must be a string, got "
                        + StrictJson.typeName(kv.getValue()));
            }
            out.put((String) kv.getKey(), v);
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry entry(String name, Object value) {
        String t = "tensor '" + q(name) + "'";
        if (!(value instanceof Map<?, ?> info)) {
            throw new SafeTensorsException(t + " must be an object with dtype, shape and data_offsets, got "
                    + StrictJson.typeName(value));
        }
        for (Object field : info.keySet()) {
            if (!field.equals("dtype") && !field.equals("shape") && !field.equals("data_offsets")) {
                throw new SafeTensorsException(t + " has unknown field '" + q((String) field)
                        + "' (only dtype, shape and data_offsets are allowed)");
            }
        }
        for (String field : new String[] {"dtype", "shape", "data_offsets"}) {
            if (!info.containsKey(field)) {
                throw new SafeTensorsException(t + " is missing field '" + field + "'");
            }
        }
        DType dtype = dtype(t, info.get("dtype"));
        long[] shape = naturals(t, "shape", info.get("shape"));
        long[] offsets = naturals(t, "data_offsets", info.get("data_offsets"));
        if (offsets.length != 2) {
            throw new SafeTensorsException(t + " data_offsets must be [begin, end] but has " + offsets.length + " elements");
        }
        if (offsets[0] > offsets[1]) {
            throw new SafeTensorsException(t + " data_offsets " + Arrays.toString(offsets) + " begin after they end");
        }
        long needed = dtype.byteSize();
        for (long d : shape) {
            try {
                needed = Math.multiplyExact(needed, d);
            } catch (ArithmeticException overflow) {
                throw new SafeTensorsException(t + " shape " + Arrays.toString(shape) + " of " + dtype
                        + " overflows a 64-bit byte count");
            }
        }
        long held = offsets[1] - offsets[0];
        if (held != needed) {
            throw new SafeTensorsException(t + " data_offsets " + Arrays.toString(offsets) + " hold " + held + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + needed);
        }
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static DType dtype(String t, Object value) {
        if (!(value instanceof String s)) {
            throw new SafeTensorsException(t + " dtype must be a string, got " + StrictJson.typeName(value));
        }
        for (DType d : DType.values()) {
            if (d.name().equals(s)) {
                return d;
            }
        }
        if (UNSUPPORTED_DTYPES.contains(s)) {
            throw new SafeTensorsException(t + " has dtype " + s + ", which Tessera does not support (supported: "
                    + Arrays.toString(DType.values()) + ")");
        }
        throw new SafeTensorsException(t + " has unknown dtype '" + q(s) + "'");
    }

    /** An array of JSON integers in [0, 2^63). */
    private static long[] naturals(String t, String field, Object value) {
        if (value instanceof List<?> list) {
            long[] out = new long[list.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(list.get(i) instanceof Long v) || v < 0) {
                    throw new SafeTensorsException(t + " " + field + " must be an array of non-negative integers, but element "
                            + i + " is " + shortValue(list.get(i)));
                }
                out[i] = v;
            }
            return out;
        }
        throw new SafeTensorsException(t + " " + field + " must be an array of non-negative integers, got "
                + StrictJson.typeName(value));
    }

    /**
     * The byte ranges, sorted by begin (ties by end, as the reference sorts), must tile the data
     * section exactly: no gap (unreferenced bytes could smuggle data), no overlap (two tensors
     * aliasing the same bytes), nothing after the last one.
     */
    private static List<Entry> checkLayout(List<Entry> entries, long dataSize) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long at = 0;
        for (Entry e : sorted) {
            String where = "tensor '" + q(e.name()) + "' data_offsets [" + e.begin() + ", " + e.end() + "]";
            if (e.begin() > at) {
                throw new SafeTensorsException(where + " leave a gap: the previous tensor ends at byte " + at);
            }
            if (e.begin() < at) {
                throw new SafeTensorsException(where + " overlap the previous tensor, which ends at byte " + at);
            }
            if (e.end() > dataSize) {
                throw new SafeTensorsException(where + " run past the end of the " + dataSize + "-byte data section");
            }
            at = e.end();
        }
        if (at != dataSize) {
            throw new SafeTensorsException("data section has " + dataSize + " bytes but the tensors cover only " + at
                    + " (trailing bytes after the last tensor)");
        }
        return sorted;
    }

    /** The shape as ints, or an error if the (valid) file holds a tensor beyond Tessera's limits. */
    private static int[] javaShape(Entry e) {
        long numel = 1;
        boolean dimTooBig = false;
        int[] shape = new int[e.shape().length];
        for (int i = 0; i < shape.length; i++) {
            numel *= e.shape()[i]; // cannot overflow: numel * byteSize was checked
            dimTooBig |= e.shape()[i] > Integer.MAX_VALUE;
            shape[i] = (int) e.shape()[i];
        }
        if (dimTooBig || numel > Integer.MAX_VALUE - 8) {
            throw new SafeTensorsException("tensor '" + q(e.name()) + "' shape " + Arrays.toString(e.shape())
                    + " has more elements than a Tessera tensor can hold (2^31 - 9)");
        }
        return shape;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Writes {@code tensors} (and {@code metadata}, omitted when null) to {@code file}, replacing it
     * atomically. Non-contiguous tensors are written as their contiguous copy, tensors on a device as their host copy.
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        try {
            writeChecked(file, tensors, metadata);
        } catch (SafeTensorsException e) {
            throw e.in(file);
        }
    }

    private static void writeChecked(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<Map.Entry<String, Tensor>> order = new ArrayList<>();
        for (Map.Entry<String, Tensor> kv : tensors.entrySet()) {
            String name = kv.getKey();
            if (name == null || kv.getValue() == null) {
                throw new SafeTensorsException("write: null tensor name or tensor");
            }
            if (name.equals(METADATA_KEY)) {
                throw new SafeTensorsException("write: tensor name '__metadata__' is reserved for the metadata map");
            }
            requireUnicode("tensor name", name);
            order.add(Map.entry(name, kv.getValue().contiguous()));
        }
        // The reference's order: descending alignment, then name by UTF-8 bytes.
        order.sort(Comparator.<Map.Entry<String, Tensor>>comparingInt(kv -> -alignmentRank(kv.getValue().dtype()))
                .thenComparing(kv -> kv.getKey().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));

        StringBuilder json = new StringBuilder("{");
        if (metadata != null) {
            json.append('"').append(METADATA_KEY).append("\":{");
            Map<String, String> sortedMeta = new TreeMap<>(Comparator.comparing(
                    (String k) -> k.getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
            for (Map.Entry<String, String> kv : metadata.entrySet()) {
                if (kv.getKey() == null || kv.getValue() == null) {
                    throw new SafeTensorsException("write: null metadata key or value");
                }
                requireUnicode("metadata key", kv.getKey());
                requireUnicode("metadata value", kv.getValue());
                sortedMeta.put(kv.getKey(), kv.getValue());
            }
            String sep = "";
            for (Map.Entry<String, String> kv : sortedMeta.entrySet()) {
                json.append(sep);
                appendString(json, kv.getKey()).append(':');
                appendString(json, kv.getValue());
                sep = ",";
            }
            json.append('}');
            if (!order.isEmpty()) {
                json.append(',');
            }
        }
        long offset = 0;
        String sep = "";
        for (Map.Entry<String, Tensor> kv : order) {
            Tensor t = kv.getValue();
            long bytes = (long) t.numel() * t.dtype().byteSize();
            json.append(sep);
            appendString(json, kv.getKey()).append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
            sep = ",";
        }
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) & ~7;
        if (padded > MAX_HEADER_LENGTH) {
            throw new SafeTensorsException("write: header of " + padded + " bytes exceeds the limit of " + MAX_HEADER_LENGTH);
        }
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        writeAtomically(file, head, order);
    }

    private static void writeAtomically(Path file, ByteBuffer head, List<Map.Entry<String, Tensor>> order) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        String base = target.getFileName().toString();
        base = base.length() > 100 ? base.substring(0, 100) : base;
        Path tmp = null;
        FileChannel ch = null;
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException clash) {
                if (attempt >= 8) {
                    throw clash;
                }
            }
        }
        boolean done = false;
        try {
            try (FileChannel out = ch; Arena arena = Arena.ofConfined()) {
                writeFully(out, head);
                MemorySegment chunk = arena.allocate(COPY_CHUNK, 8);
                for (Map.Entry<String, Tensor> kv : order) {
                    writeData(out, kv.getValue(), chunk);
                }
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
            FileSync.directory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Streams a contiguous tensor's elements little-endian through {@code chunk}. */
    private static void writeData(FileChannel ch, Tensor tensor, MemorySegment chunk) throws IOException {
        Tensor t = tensor.to(Device.CPU); // a device tensor is downloaded one at a time, while it is written
        Storage s = t.storage();
        DType dtype = t.dtype();
        int size = dtype.byteSize();
        // Heap arrays are in native order; segment storage (a mapped file) is little-endian already.
        ByteOrder srcOrder = s.array() != null ? ByteOrder.nativeOrder() : ByteOrder.LITTLE_ENDIAN;
        ValueLayout src = layout(dtype, srcOrder);
        ValueLayout dst = layout(dtype, ByteOrder.LITTLE_ENDIAN);
        MemorySegment data = s.segment();
        long first = (long) t.offset() * size;
        long remaining = t.numel();
        long perChunk = COPY_CHUNK / size;
        while (remaining > 0) {
            long n = Math.min(remaining, perChunk);
            MemorySegment.copy(data, src, first, chunk, dst, 0, n);
            writeFully(ch, chunk.asSlice(0, n * size).asByteBuffer());
            first += n * size;
            remaining -= n;
        }
    }

    private static ValueLayout layout(DType dtype, ByteOrder order) {
        return switch (dtype) {
            case F32 -> ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(order);
            case F64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(order);
            case BF16, F16 -> ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(order);
            case I32 -> ValueLayout.JAVA_INT_UNALIGNED.withOrder(order);
            case I64 -> ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order);
            case BOOL -> ValueLayout.JAVA_BYTE;
        };
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** The position of {@code dtype} in the reference's alignment order (higher sorts first). */
    private static int alignmentRank(DType dtype) {
        return switch (dtype) {
            case BOOL -> 0;
            case F16 -> 1;
            case BF16 -> 2;
            case I32 -> 3;
            case F32 -> 4;
            case F64 -> 5;
            case I64 -> 6;
        };
    }

    private static void requireUnicode(String what, String s) {
        try {
            StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT).encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException("write: " + what + " '" + q(s) + "' has an unpaired surrogate, not valid Unicode");
        }
    }

    /** JSON string escaping exactly as serde_json writes it, so our headers match the reference's bytes. */
    private static StringBuilder appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"');
    }

    private static String q(String name) {
        return StrictJson.shorten(name);
    }

    /** A number or literal as written (if short), otherwise just its JSON type: messages stay one line. */
    private static String shortValue(Object v) {
        if (v instanceof String || v instanceof Map || v instanceof List) {
            return v instanceof String ? "a string" : "an " + StrictJson.typeName(v);
        }
        String s = String.valueOf(v);
        return s.length() > 40 ? "a long number" : s;
    }
}
