package dev.tessera.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Mutated valid files must either read (and then be readable end to end) or be rejected with a
 * {@code safetensors: } IllegalArgumentException: never another exception, an OOM or a hang.
 */
class SafeTensorsFuzzTest {
    private static final String[] TOKENS = {"-", "0", "9", "99999999999999999999", "1e3", "1.5", "\"", "[", "]", "{", "}",
        ",", ":", "\\", "\u00ff", "\"__metadata__\"", "null", "true", " ", "\"F64\"", "\"U8\""};
    private static final Map<Integer, byte[]> BASES = new ConcurrentHashMap<>();
    private static Path dir;

    private static synchronized Path dir() throws IOException {
        if (dir == null) {
            dir = Files.createTempDirectory("safetensors-fuzz");
        }
        return dir;
    }

    @AfterContainer
    static void cleanUp() throws IOException {
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A valid file of 0-4 random tensors (any dtype, rank 0-3, empty dims included), written by us. */
    private static byte[] base(int which) {
        return BASES.computeIfAbsent(which, w -> {
            Random r = new Random(w);
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            int count = r.nextInt(5);
            for (int i = 0; i < count; i++) {
                DType dtype = DType.values()[r.nextInt(DType.values().length)];
                int[] shape = new int[r.nextInt(4)];
                int n = 1;
                for (int d = 0; d < shape.length; d++) {
                    shape[d] = r.nextInt(4);
                    n *= shape[d];
                }
                String name = "t" + i + (r.nextBoolean() ? ".w\u00e9" : "");
                tensors.put(name, SafeTensorsTest.fromLeBytes(dtype, SafeTensorsTest.randomBytes(r, dtype, n), shape));
            }
            Map<String, String> meta = r.nextBoolean() ? Map.of("format", "pt", "n", Integer.toString(w)) : null;
            try {
                Path p = dir().resolve("base-" + w + ".safetensors");
                SafeTensors.write(p, tensors, meta);
                byte[] bytes = Files.readAllBytes(p);
                SafeTensors.read(p); // the base itself must be valid
                return bytes;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    @Property(tries = 300)
    void mutatedFilesReadCleanlyOrFailWithASafetensorsMessage(@ForAll @IntRange(min = 0, max = 31) int which,
            @ForAll @IntRange(min = 0, max = 6) int mutation, @ForAll long seed) throws IOException {
        Random r = new Random(seed);
        byte[] bytes = mutate(base(which), mutation, r);
        Path p = Files.createTempFile(dir(), "m", ".safetensors");
        try {
            Files.write(p, bytes);
            Map<String, Tensor> tensors;
            try {
                tensors = SafeTensors.read(p);
            } catch (IllegalArgumentException e) {
                if (e.getMessage() == null || !e.getMessage().startsWith("safetensors: " + p + ": ") || e.getMessage().contains("\n")) {
                    throw new AssertionError("badly worded rejection after mutation " + mutation, e);
                }
                return;
            } catch (Throwable t) {
                throw new AssertionError("mutation " + mutation + " of base " + which + " gave " + t, t);
            }
            double sum = 0;
            for (Tensor t : tensors.values()) {
                Storage s = t.storage();
                if (s.length() != t.numel()) {
                    throw new AssertionError("storage of " + s.length() + " for " + t.numel() + " elements");
                }
                for (int i = 0; i < s.length(); i++) {
                    sum += s.getDouble(i);
                }
            }
            if (sum == 42.4242) { // keep the reads observable
                System.out.print("");
            }
        } finally {
            Files.deleteIfExists(p);
        }
    }

    private static byte[] mutate(byte[] file, int mutation, Random r) {
        if (file.length < 9) {
            return file;
        }
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        int headerEnd = 8 + (int) (n < 0 || n > file.length - 8 ? file.length - 8 : n);
        return switch (mutation) {
            case 0 -> { // flip 1-4 random bytes anywhere
                byte[] b = file.clone();
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
                yield b;
            }
            case 1 -> Arrays.copyOf(file, r.nextInt(file.length)); // truncate
            case 2 -> { // change a digit in the header (a shape or an offset, usually)
                byte[] b = file.clone();
                int[] digits = java.util.stream.IntStream.range(8, headerEnd).filter(i -> b[i] >= '0' && b[i] <= '9').toArray();
                if (digits.length > 0) {
                    b[digits[r.nextInt(digits.length)]] = (byte) ('0' + r.nextInt(10));
                }
                yield b;
            }
            case 3 -> splice(file, 8 + r.nextInt(headerEnd - 7), 0, new byte[] {(byte) r.nextInt(256)}); // insert a byte
            case 4 -> splice(file, 8 + r.nextInt(Math.max(1, headerEnd - 8)), 1, new byte[0]); // delete a byte
            case 5 -> { // insert a JSON token, and keep the length prefix consistent so the parser sees it
                byte[] tok = TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                byte[] b = splice(file, 8 + r.nextInt(headerEnd - 7), r.nextInt(2), tok);
                long len = headerEnd - 8 + b.length - file.length;
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
                yield b;
            }
            default -> mutate(mutate(file, r.nextInt(5), r), r.nextInt(6), r); // two at once
        };
    }

    private static byte[] splice(byte[] file, int at, int remove, byte[] insert) {
        at = Math.min(at, file.length);
        remove = Math.min(remove, file.length - at);
        byte[] out = new byte[file.length - remove + insert.length];
        System.arraycopy(file, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(file, at + remove, out, at + insert.length, file.length - at - remove);
        return out;
    }
}
