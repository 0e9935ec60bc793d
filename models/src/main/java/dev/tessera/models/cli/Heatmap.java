package dev.tessera.models.cli;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.zip.CRC32;
import java.util.zip.DeflaterOutputStream;

/**
 * A matrix of values in [0, 1] as a PNG heatmap (dark blue → yellow, cells of {@code cell}×{@code cell}
 * pixels), written by hand: PNG is a signature, an IHDR chunk, zlib-compressed scanlines in an IDAT
 * chunk and IEND, each chunk with a CRC-32 (RFC 2083), so no imaging library is needed.
 */
final class Heatmap {
    private static final int[][] STOPS = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}; // viridis

    private Heatmap() {}

    /** values[r][c] in [0, 1] (clamped; NaN shows as black). */
    static byte[] png(double[][] values, int cell) throws IOException {
        int rows = values.length;
        int cols = rows == 0 ? 0 : values[0].length;
        int w = Math.max(1, cols * cell);
        int h = Math.max(1, rows * cell);
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        try (DeflaterOutputStream z = new DeflaterOutputStream(raw)) {
            byte[] line = new byte[1 + 3 * w];
            for (int y = 0; y < h; y++) {
                line[0] = 0; // filter: none
                for (int x = 0; x < w; x++) {
                    int[] rgb = rows == 0 ? new int[3] : colour(values[y / cell][x / cell]);
                    line[1 + 3 * x] = (byte) rgb[0];
                    line[2 + 3 * x] = (byte) rgb[1];
                    line[3 + 3 * x] = (byte) rgb[2];
                }
                z.write(line);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        d.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        DataOutputStream hd = new DataOutputStream(ihdr);
        hd.writeInt(w);
        hd.writeInt(h);
        hd.write(new byte[] {8, 2, 0, 0, 0}); // 8-bit RGB, deflate, no filter method extras, no interlace
        chunk(d, "IHDR", ihdr.toByteArray());
        chunk(d, "IDAT", raw.toByteArray());
        chunk(d, "IEND", new byte[0]);
        return out.toByteArray();
    }

    static int[] colour(double v) {
        if (Double.isNaN(v)) {
            return new int[3];
        }
        double t = Math.min(1, Math.max(0, v)) * (STOPS.length - 1);
        int i = Math.min(STOPS.length - 2, (int) t);
        double f = t - i;
        int[] c = new int[3];
        for (int k = 0; k < 3; k++) {
            c[k] = (int) Math.round(STOPS[i][k] + f * (STOPS[i + 1][k] - STOPS[i][k]));
        }
        return c;
    }

    private static void chunk(DataOutputStream d, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        d.writeInt(data.length);
        d.write(t);
        d.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        d.writeInt((int) crc.getValue());
    }
}
