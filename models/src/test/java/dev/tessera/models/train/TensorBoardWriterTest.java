package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Event files parse as TFRecords with valid masked CRCs and carry the scalars written. */
class TensorBoardWriterTest {
    @Test
    void recordsAreFramedAndCheckedAsTensorBoardExpects(@TempDir Path dir) throws Exception {
        Path file;
        try (TensorBoardWriter w = new TensorBoardWriter(dir)) {
            w.scalar("loss/train", 1, 2.5);
            w.scalar("loss/train", 2, 1.25);
            file = w.file();
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<byte[]> records = new ArrayList<>();
        while (buf.hasRemaining()) {
            byte[] lenBytes = new byte[8];
            buf.get(lenBytes);
            long len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(TensorBoardWriter.maskedCrc(lenBytes, 0, 8), buf.getInt(), "length crc");
            byte[] data = new byte[(int) len];
            buf.get(data);
            assertEquals(TensorBoardWriter.maskedCrc(data, 0, data.length), buf.getInt(), "data crc");
            records.add(data);
        }
        assertEquals(4, records.size(), "file version, session start, two scalars");
        assertTrue(new String(records.get(0), StandardCharsets.ISO_8859_1).contains("brain.Event:2"));
        // the scalar record: ... 0x10 step ... tag string ... 0x15 then the float's little-endian bits
        byte[] second = records.get(3);
        String text = new String(second, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("loss/train"));
        int at = text.lastIndexOf('\u0015');
        float value = ByteBuffer.wrap(second, at + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        assertEquals(1.25f, value);
        assertEquals(0x10, second[9] & 0xff); // field 2 (step) follows the 9-byte wall_time field
        assertEquals(2, second[10]);
    }

    @Test
    void continuingAfterAStepDropsTheLaterEventsAndATornTailFromOlderFiles(@TempDir Path dir) throws Exception {
        Path old;
        try (TensorBoardWriter w = new TensorBoardWriter(dir)) {
            for (int step = 1; step <= 6; step++) {
                w.scalar("loss/train", step, 1.0 / step);
            }
            old = w.file();
        }
        Files.write(old, new byte[] {1, 2, 3, 4, 5}, java.nio.file.StandardOpenOption.APPEND); // a crash mid-record
        Files.move(old, dir.resolve("events.out.tfevents.1.old.tessera")); // an older process's file
        try (TensorBoardWriter w = new TensorBoardWriter(dir, 4)) {
            w.scalar("loss/train", 5, 0.5);
        }
        var steps = EventFiles.scalarSteps(dir);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), steps.get("loss/train").stream().sorted().toList());
        byte[] kept = Files.readAllBytes(dir.resolve("events.out.tfevents.1.old.tessera"));
        assertEquals(-1, TensorBoardWriter.eventStep(new byte[] {(byte) 0x80}, 0, 1), "a torn varint is not an event");
        // the old file now ends on a whole record: its last record parses with a valid CRC
        ByteBuffer buf = ByteBuffer.wrap(kept).order(ByteOrder.LITTLE_ENDIAN);
        while (buf.hasRemaining()) {
            long len = buf.getLong();
            buf.getInt();
            byte[] data = new byte[(int) len];
            buf.get(data);
            assertEquals(TensorBoardWriter.maskedCrc(data, 0, data.length), buf.getInt());
        }
    }

    @Test
    void maskedCrcMatchesTheTfRecordReferenceValue() {
        // CRC-32C("123456789") = 0xE3069283 (RFC 3720); masked: rotr15 + 0xa282ead8
        byte[] digits = "123456789".getBytes(StandardCharsets.US_ASCII);
        int crc = 0xE3069283;
        int expected = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
        assertEquals(expected, TensorBoardWriter.maskedCrc(digits, 0, digits.length));
    }
}
