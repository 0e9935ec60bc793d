package dev.tessera.models.train;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Writes TensorBoard event files directly, so {@code tensorboard --logdir runs} shows the curves
 * without any Python in the loop. The format is TFRecord: each record is
 * {@code uint64 length, uint32 masked_crc32c(length), bytes, uint32 masked_crc32c(bytes)}, where a
 * record holds one serialized {@code tensorflow.Event} protobuf (encoded here by hand: wall_time =
 * 1 double, step = 2 varint, file_version = 3 string, summary = 5 message, session_log = 7 message;
 * Summary.value = 1; Value.tag = 1 string, Value.simple_value = 2 float; SessionLog.status = 1,
 * START = 1).
 *
 * <p><b>One history across restarts.</b> Each process writes its own event file. Continuing a run
 * from step k (a resume or a spike rollback) first rewrites every older event file of the
 * directory without its events of steps after k (and without a torn record a crash left at its
 * end), each atomically (new file, fsync, rename), so any reader of the files sees each step once.
 * The new file then opens with a {@code SessionLog START} at step k + 1, on which TensorBoard
 * purges the points of steps ≥ k + 1 it had already loaded, so a TensorBoard left running shows
 * the same single history.
 */
public final class TensorBoardWriter implements Closeable {
    private final OutputStream out;
    private final Path file;

    /** A new event file in {@code logDir}, for a run starting at step 1. */
    public TensorBoardWriter(Path logDir) throws IOException {
        this(logDir, 0);
    }

    /** A new event file for the steps after {@code continueAfter}, once the older files hold no later step. */
    public TensorBoardWriter(Path logDir, long continueAfter) throws IOException {
        Files.createDirectories(logDir);
        truncate(logDir, continueAfter);
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        this.file = logDir.resolve("events.out.tfevents." + (System.currentTimeMillis() / 1000) + "." + host + ".tessera");
        this.out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        ProtoWriter event = new ProtoWriter();
        event.fixed64(1, Double.doubleToRawLongBits(System.currentTimeMillis() / 1000.0));
        event.string(3, "brain.Event:2");
        writeRecord(event.toByteArray());
        ProtoWriter start = new ProtoWriter();
        start.varint(1, 1); // SessionLog.START
        ProtoWriter restart = new ProtoWriter();
        restart.fixed64(1, Double.doubleToRawLongBits(System.currentTimeMillis() / 1000.0));
        restart.varint(2, continueAfter + 1);
        restart.message(7, start.toByteArray());
        writeRecord(restart.toByteArray());
        out.flush();
    }

    /**
     * Rewrites each event file in {@code logDir} without its events of steps after
     * {@code keepThrough} and without a torn or corrupt tail; files with nothing to drop are left alone.
     */
    static void truncate(Path logDir, long keepThrough) throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(logDir)) {
            files = list.filter(p -> p.getFileName().toString().startsWith("events.out.tfevents.") && Files.isRegularFile(p)).toList();
        }
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            java.io.ByteArrayOutputStream kept = new java.io.ByteArrayOutputStream(bytes.length);
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            boolean dropped = false;
            while (buf.remaining() > 0) {
                int at = buf.position();
                if (buf.remaining() < 12) {
                    dropped = true;
                    break;
                }
                long len = buf.getLong();
                int lenCrc = buf.getInt();
                if (lenCrc != maskedCrc(bytes, at, 8) || len < 0 || len > buf.remaining() - 4) {
                    dropped = true;
                    break;
                }
                int dataAt = buf.position();
                buf.position(dataAt + (int) len);
                if (buf.getInt() != maskedCrc(bytes, dataAt, (int) len)) {
                    dropped = true;
                    break;
                }
                long step = eventStep(bytes, dataAt, (int) len);
                if (step < 0) {
                    dropped = true;
                    break;
                }
                if (step > keepThrough) {
                    dropped = true;
                } else {
                    kept.write(bytes, at, buf.position() - at);
                }
            }
            if (dropped) {
                AtomicFile.write(f, kept.toByteArray());
            }
        }
    }

    /** The step (field 2) of a serialized Event, 0 when absent, -1 when the bytes are not a well-formed message. */
    static long eventStep(byte[] b, int from, int length) {
        int i = from;
        int end = from + length;
        long step = 0;
        while (i < end) {
            long[] key = readVarint(b, i, end);
            if (key == null) {
                return -1;
            }
            i = (int) key[1];
            int wire = (int) (key[0] & 7);
            if (wire == 0) {
                long[] v = readVarint(b, i, end);
                if (v == null) {
                    return -1;
                }
                i = (int) v[1];
                if ((key[0] >>> 3) == 2) {
                    step = v[0];
                }
            } else if (wire == 1 || wire == 5) {
                i += wire == 1 ? 8 : 4;
            } else if (wire == 2) {
                long[] n = readVarint(b, i, end);
                if (n == null || n[0] < 0 || n[0] > end - n[1]) {
                    return -1;
                }
                i = (int) (n[1] + n[0]);
            } else {
                return -1;
            }
        }
        return i == end ? step : -1;
    }

    /** {value, next index}, or null past {@code end}. */
    private static long[] readVarint(byte[] b, int i, int end) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (i >= end) {
                return null;
            }
            byte x = b[i++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return new long[] {v, i};
            }
        }
        return null;
    }

    public Path file() {
        return file;
    }

    /** One scalar point of the curve {@code tag} at {@code step}. */
    public synchronized void scalar(String tag, long step, double value) throws IOException {
        ProtoWriter v = new ProtoWriter();
        v.string(1, tag);
        v.fixed32(2, Float.floatToRawIntBits((float) value));
        ProtoWriter summary = new ProtoWriter();
        summary.message(1, v.toByteArray());
        ProtoWriter event = new ProtoWriter();
        event.fixed64(1, Double.doubleToRawLongBits(System.currentTimeMillis() / 1000.0));
        event.varint(2, step);
        event.message(5, summary.toByteArray());
        writeRecord(event.toByteArray());
    }

    public synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        out.close();
    }

    private void writeRecord(byte[] data) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(data.length);
        header.putInt(maskedCrc(header.array(), 0, 8));
        out.write(header.array());
        out.write(data);
        ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        footer.putInt(maskedCrc(data, 0, data.length));
        out.write(footer.array());
    }

    /** TFRecord's masked CRC-32C: rotate right by 15 and add a constant. */
    static int maskedCrc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    /** The few protobuf wire types an Event needs. */
    static final class ProtoWriter {
        private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();

        void varint(int field, long value) {
            tag(field, 0);
            rawVarint(value);
        }

        void fixed64(int field, long value) {
            tag(field, 1);
            for (int i = 0; i < 8; i++) {
                bytes.write((int) (value >>> (8 * i)));
            }
        }

        void fixed32(int field, int value) {
            tag(field, 5);
            for (int i = 0; i < 4; i++) {
                bytes.write(value >>> (8 * i));
            }
        }

        void string(int field, String s) {
            message(field, s.getBytes(StandardCharsets.UTF_8));
        }

        void message(int field, byte[] payload) {
            tag(field, 2);
            rawVarint(payload.length);
            bytes.write(payload, 0, payload.length);
        }

        private void tag(int field, int wireType) {
            rawVarint(((long) field << 3) | wireType);
        }

        private void rawVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                bytes.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            bytes.write((int) v);
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }
}
