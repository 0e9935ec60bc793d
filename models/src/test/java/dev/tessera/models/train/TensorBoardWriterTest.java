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
        assertEquals(3, records.size());
        assertTrue(new String(records.get(0), StandardCharsets.ISO_8859_1).contains("brain.Event:2"));
        // the scalar record: ... 0x10 step ... tag string ... 0x15 then the float's little-endian bits
        byte[] second = records.get(2);
        String text = new String(second, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("loss/train"));
        int at = text.lastIndexOf('\u0015');
        float value = ByteBuffer.wrap(second, at + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        assertEquals(1.25f, value);
        assertEquals(0x10, second[9] & 0xff); // field 2 (step) follows the 9-byte wall_time field
        assertEquals(2, second[10]);
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
