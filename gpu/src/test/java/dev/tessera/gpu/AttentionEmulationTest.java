package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attention kernels of attention.cu, run on the CPU by {@code attention-emulator.cpp} (one
 * fiber per CUDA thread, {@code cuda-emulator.h}; built with clang-19, see {@link Clang}), against
 * the double-precision {@link AttentionReference}: outputs, lse, dq, dk, dv. Lanes per row come
 * from {@link LaunchConfig#attentionLanes}; blocks of 32 threads give many blocks and tiles on small
 * shapes, one case runs the real 256-thread blocks. Masks: causal from the end of the keys, causal
 * from other query offsets, and document ids (packed runs as the trainer makes them, and scattered
 * ids that leave some queries no key at all).
 */
class AttentionEmulationTest {
    @TempDir
    static Path tmp;
    static Path emulator;

    @BeforeAll
    static void build() throws IOException {
        Clang.require("attention emulation test");
        Files.writeString(tmp.resolve("kernel.cu"), KernelSources.source("attention"));
        Clang.resource("cuda-emulator.h", tmp);
        Path src = Clang.resource("attention-emulator.cpp", tmp);
        emulator = tmp.resolve("attention-emulator");
        Clang.Result r = Clang.run(List.of(Clang.CLANG, "-x", "c++", "-std=c++20", "-O1", "-I", tmp.toString(),
                src.toString(), "-o", emulator.toString(), "-lstdc++", "-lm"), 120);
        assertEquals(0, r.exit(), "attention-emulator.cpp: " + Clang.firstError(r.log()));
    }

    @Test
    void smallBlocksManyTilesAllLaneCounts() {
        // b, h, hkv, tq, tk, d: GQA; Tq != Tk both ways; d for 1, 2, 4, 8 lanes, 24 not a multiple of its lanes
        int[][] shapes = {{2, 4, 2, 5, 7, 16}, {1, 2, 1, 40, 45, 24}, {1, 1, 1, 20, 17, 64}, {1, 2, 2, 9, 11, 128}};
        for (int[] s : shapes) {
            for (boolean causal : new boolean[] {false, true}) {
                check(32, s, causal);
            }
        }
    }

    @Test
    void fullBlocks() {
        check(256, new int[] {1, 2, 1, 70, 37, 32}, true);
    }

    /** The trainer's mask: causal from query 0 and packed documents, some runs crossing the 32-row tiles. */
    @Test
    void documentMaskOfPackedRuns() {
        check(32, new int[] {2, 4, 2, 40, 40, 16}, true, 0, 0, true);
        check(32, new int[] {1, 2, 2, 33, 33, 64}, false, 0, 0, true);
        check(256, new int[] {2, 2, 1, 70, 70, 32}, true, 0, 0, true);
    }

    /**
     * Document ids scattered (not runs), wider rows than the keys, and causal offsets other than
     * Tk - Tq: with offset 3 below Tk - Tq some queries' own document has no visible key, so they
     * see nothing (zero output, lse -inf, zero gradients).
     */
    @Test
    void documentMaskWithScatteredIdsAndQueryOffsets() {
        check(32, new int[] {1, 2, 1, 9, 45, 24}, true, 36, 3, false);
        check(32, new int[] {2, 2, 1, 20, 30, 16}, true, 3, 0, false);
        check(32, new int[] {1, 1, 1, 20, 30, 8}, true, 3, -1, false); // no document ids, offset 3
    }

    private void check(int threads, int[] s, boolean causal) {
        check(threads, s, causal, s[4] - s[3], -1, false);
    }

    /**
     * One run: {@code extraDocCols} < 0 for no document ids, else ids rows of Tk + extraDocCols
     * columns, in runs of 1 to 12 ({@code runs}) or drawn from 4 ids at random.
     */
    private void check(int threads, int[] s, boolean causal, int offset, int extraDocCols, boolean runs) {
        int b = s[0], h = s[1], hkv = s[2], tq = s[3], tk = s[4], d = s[5];
        Random rnd = new Random(Arrays.hashCode(s) * 31L + (causal ? 1 : 0) + 7L * offset + 101L * extraDocCols);
        float[] q = randn(rnd, b * h * tq * d), k = randn(rnd, b * hkv * tk * d);
        float[] v = randn(rnd, k.length), dOut = randn(rnd, q.length);
        float scale = (float) (1 / Math.sqrt(d));
        int docCols = extraDocCols < 0 ? 0 : tk + extraDocCols;
        long[] docs = extraDocCols < 0 ? null : documentIds(rnd, b, docCols, runs);
        Path dir = tmp.resolve(threads + "-" + Arrays.toString(s).replaceAll("\\W+", "_") + causal + offset + "_" + docCols);
        try {
            Files.createDirectories(dir);
            write(dir.resolve("q.bin"), q);
            write(dir.resolve("k.bin"), k);
            write(dir.resolve("v.bin"), v);
            write(dir.resolve("dout.bin"), dOut);
            if (docs != null) {
                ByteBuffer buf = ByteBuffer.allocate(8 * docs.length).order(ByteOrder.LITTLE_ENDIAN);
                buf.asLongBuffer().put(docs);
                Files.write(dir.resolve("docs.bin"), buf.array());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(emulator.toString(), "" + threads, "" + LaunchConfig.attentionLanes(d)));
        for (int x : s) {
            cmd.add("" + x);
        }
        cmd.addAll(List.of(causal ? "1" : "0", "" + offset, "" + docCols, Float.toString(scale), dir.toString()));
        Clang.Result r = Clang.run(cmd, 120);
        String what = "attention " + Arrays.toString(s) + " causal=" + causal + " offset=" + offset + " docCols=" + docCols
                + " threads=" + threads;
        assertEquals(0, r.exit(), what + ": " + r.log());
        AttentionReference.Result ref = new AttentionReference(b, h, hkv, tq, tk, d, causal, offset, docs, docCols, scale)
                .run(q, k, v, dOut);
        close(ref.out(), read(dir.resolve("o.bin")), 1e-5, what + " out");
        close(ref.lse(), read(dir.resolve("lse.bin")), 1e-5, what + " lse");
        close(ref.dq(), read(dir.resolve("dq.bin")), 1e-4, what + " dq");
        close(ref.dk(), read(dir.resolve("dk.bin")), 1e-4, what + " dk");
        close(ref.dv(), read(dir.resolve("dv.bin")), 1e-4, what + " dv");
    }

    private static void close(double[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            assertTrue(e == a || Math.abs(e - a) <= tol * (1 + Math.abs(e)), what + "[" + i + "]: expected " + e + ", got " + a);
        }
    }

    /** (b, cols) document ids: runs of 1 to 12 positions per document, or each position's id drawn from 0..3. */
    private static long[] documentIds(Random rnd, int b, int cols, boolean runs) {
        long[] ids = new long[b * cols];
        for (int r = 0; r < b; r++) {
            long doc = rnd.nextInt(100);
            int left = 1 + rnd.nextInt(12);
            for (int c = 0; c < cols; c++) {
                if (runs && left-- == 0) {
                    doc++;
                    left = rnd.nextInt(12);
                }
                ids[r * cols + c] = runs ? doc : rnd.nextInt(4);
            }
        }
        return ids;
    }

    private static float[] randn(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static void write(Path p, float[] x) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(x);
        Files.write(p, buf.array());
    }

    private static float[] read(Path p) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
            float[] x = new float[buf.remaining() / 4];
            buf.asFloatBuffer().get(x);
            return x;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
