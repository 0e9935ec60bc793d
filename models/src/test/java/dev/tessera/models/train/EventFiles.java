package dev.tessera.models.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Reads TensorBoard event files back for tests, independently of {@link TensorBoardWriter}. */
public final class EventFiles {
    private EventFiles() {}

    /** Steps of the scalar events in a TensorBoard directory, by tag (all files, in name order). */
    public static Map<String, List<Long>> scalarSteps(Path logDir) throws IOException {
        Map<String, List<Long>> out = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(logDir)) {
            files = list.sorted().toList();
        }
        for (Path f : files) {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
            while (buf.remaining() >= 12) {
                int len = (int) buf.getLong();
                buf.getInt();
                byte[] event = new byte[len];
                buf.get(event);
                buf.getInt();
                ByteBuffer e = ByteBuffer.wrap(event).order(ByteOrder.LITTLE_ENDIAN);
                long step = 0;
                String tag = null;
                while (e.hasRemaining()) {
                    long key = varint(e);
                    switch ((int) (key & 7)) {
                        case 0 -> {
                            long v = varint(e);
                            step = (key >>> 3) == 2 ? v : step;
                        }
                        case 1 -> e.position(e.position() + 8);
                        case 5 -> e.position(e.position() + 4);
                        default -> {
                            int n = (int) varint(e);
                            if ((key >>> 3) == 5) { // summary { value { tag = 1 } }
                                ByteBuffer s = e.slice(e.position(), n);
                                varint(s);
                                varint(s);
                                varint(s);
                                int tagLen = (int) varint(s);
                                byte[] t = new byte[tagLen];
                                s.get(t);
                                tag = new String(t, StandardCharsets.UTF_8);
                            }
                            e.position(e.position() + n);
                        }
                    }
                }
                if (tag != null) {
                    out.computeIfAbsent(tag, k -> new ArrayList<>()).add(step);
                }
            }
        }
        return out;
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
    }
}
