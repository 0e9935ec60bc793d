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
import java.util.zip.CRC32C;

/**
 * Writes TensorBoard event files directly, so {@code tensorboard --logdir runs} shows the curves
 * without any Python in the loop. The format is TFRecord: each record is
 * {@code uint64 length, uint32 masked_crc32c(length), bytes, uint32 masked_crc32c(bytes)}, where a
 * record holds one serialized {@code tensorflow.Event} protobuf (encoded here by hand: wall_time =
 * 1 double, step = 2 varint, file_version = 3 string, summary = 5 message; Summary.value = 1;
 * Value.tag = 1 string, Value.simple_value = 2 float).
 */
public final class TensorBoardWriter implements Closeable {
    private final OutputStream out;
    private final Path file;

    public TensorBoardWriter(Path logDir) throws IOException {
        Files.createDirectories(logDir);
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
