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
 * The embedding, gradient-norm and masked-softmax kernels (embedding.cu, grad_norm.cu,
 * masked_softmax.cu) run on the CPU by {@code ops-emulator.cpp} (one fiber per CUDA thread,
 * {@code cuda-emulator.h}; clang-19, see {@link Clang}) with CudaOps' launch shapes, against
 * double-precision references: the embedding gather exactly, its gradient bit for bit against the
 * host kernel's position-order F32 sum, the sum of squares to double rounding, the masked softmax
 * through broadcast masks.
 */
class OpsEmulationTest {
    @TempDir
    static Path tmp;
    static Path emulator;

    @BeforeAll
    static void build() throws IOException {
        Clang.require("ops emulation test");
        Files.writeString(tmp.resolve("kernel.cu"), KernelSources.source("embedding") + KernelSources.resource("grad_norm.cu")
                + KernelSources.resource("masked_softmax.cu"));
        Clang.resource("cuda-emulator.h", tmp);
        Path src = Clang.resource("ops-emulator.cpp", tmp);
        emulator = tmp.resolve("ops-emulator");
        Clang.Result r = Clang.run(List.of(Clang.CLANG, "-x", "c++", "-std=c++20", "-O1", "-I", tmp.toString(), src.toString(), "-o",
                emulator.toString(), "-lstdc++", "-lm"), 120);
        assertEquals(0, r.exit(), "ops-emulator.cpp: " + Clang.firstError(r.log()));
    }

    /**
     * Gather and scatter-add with repeated ids, ids past the 256-id chunk, more columns than threads
     * (the column loop), and ids outside the table (a NaN row forward, nothing added backward).
     */
    @Test
    void embeddingGathersRowsAndAddsGradientsInPositionOrder() {
        int[][] cases = {{7, 5, 13, 32}, {50, 70, 300, 32}, {3, 1, 1, 32}, {40, 33, 600, 64}};
        for (int[] cs : cases) {
            int vocab = cs[0], cols = cs[1], n = cs[2], threads = cs[3];
            Random rnd = new Random(Arrays.hashCode(cs));
            float[] w = randn(rnd, vocab * cols), g = randn(rnd, n * cols);
            long[] ids = new long[n];
            for (int j = 0; j < n; j++) {
                ids[j] = j % 17 == 5 ? (j % 2 == 0 ? -1 : vocab) : rnd.nextInt(Math.max(1, vocab / 3)); // repeats, and bad ids
            }
            Path dir = dir("embedding", cs);
            write(dir.resolve("w.bin"), w);
            write(dir.resolve("g.bin"), g);
            writeLongs(dir.resolve("ids.bin"), ids);
            run(dir, "embedding", threads, vocab, cols, n);
            float[] out = read(dir.resolve("out.bin")), dw = read(dir.resolve("dw.bin"));
            float[] expectedDw = new float[vocab * cols]; // the host kernel: position order, F32, from 0
            for (int j = 0; j < n; j++) {
                boolean bad = ids[j] < 0 || ids[j] >= vocab;
                for (int c = 0; c < cols; c++) {
                    float o = out[j * cols + c];
                    String what = "embedding " + Arrays.toString(cs) + " out[" + j + ", " + c + "] for id " + ids[j];
                    assertTrue(bad ? Float.isNaN(o) : o == w[(int) ids[j] * cols + c], what + ": got " + o);
                    if (!bad) {
                        expectedDw[(int) ids[j] * cols + c] += g[j * cols + c];
                    }
                }
            }
            for (int i = 0; i < dw.length; i++) {
                assertEquals(Float.floatToIntBits(expectedDw[i]), Float.floatToIntBits(dw[i]),
                        "embedding " + Arrays.toString(cs) + " dw[" + i / cols + ", " + i % cols + "]: expected " + expectedDw[i] + ", got " + dw[i]);
            }
        }
    }

    /**
     * Sizes 0, 1, one block's worth ± 1, with CudaOps' grid and with fewer blocks than that (the
     * grid-stride loop, which CudaOps' grid reaches past 1024 blocks); the running sum is added.
     */
    @Test
    void sumOfSquaresInDoubleAddsToTheRunningSum() {
        assertEquals(List.of(1, 1, 1, 2, 1024, 1024), Arrays.stream(new long[] {0, 1, 256, 257, 1024 * 256, 1L << 40})
                .mapToObj(LaunchConfig::sumSquaresBlocks).toList(), "blocks of the first pass");
        int[][] cases = {{0, 0}, {1, 0}, {255, 0}, {257, 0}, {5000, 0}, {5000, 3}};
        for (int[] cs : cases) {
            int n = cs[0];
            Random rnd = new Random(n + 31L * cs[1]);
            float[] x = randn(rnd, n);
            double running = n == 0 ? 0.25 : rnd.nextDouble() * 10;
            double expected = running;
            double sum = 0;
            for (float v : x) {
                sum += (double) v * v;
            }
            expected += sum;
            Path dir = dir("sum_squares", cs);
            write(dir.resolve("x.bin"), x);
            try {
                Files.write(dir.resolve("running.bin"), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(running).array());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            int blocks = cs[1] > 0 ? cs[1] : LaunchConfig.sumSquaresBlocks(n);
            run(dir, "sum_squares", LaunchConfig.SUM_SQUARES_THREADS, n, blocks);
            double got = readDoubles(dir.resolve("out.bin"))[0];
            assertEquals(expected, got, 1e-13 * Math.abs(expected), "sum of squares of " + n + " values in " + blocks + " blocks plus " + running);
        }
    }

    /**
     * Masks broadcast over batch and heads (B or 1, 1, T, S), a per-row mask, a mask broadcast along
     * the keys, rows with nothing allowed (zeros), and more keys than threads.
     */
    @Test
    void maskedSoftmaxOverBroadcastMasks() {
        checkMaskedSoftmax(new int[] {2, 3, 5, 7}, new int[] {1, 1, 5, 7}, 0.5f);
        checkMaskedSoftmax(new int[] {2, 2, 4, 300}, new int[] {2, 1, 4, 300}, 0.125f);
        checkMaskedSoftmax(new int[] {6, 9}, new int[] {6, 9}, 1f);
        checkMaskedSoftmax(new int[] {4, 5}, new int[] {4, 1}, 2f);
    }

    private void checkMaskedSoftmax(int[] shape, int[] maskShape, float scale) {
        Random rnd = new Random(Arrays.hashCode(shape) * 31L + Arrays.hashCode(maskShape));
        int numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int cols = shape[shape.length - 1], rows = numel / cols;
        float[] x = randn(rnd, numel);
        byte[] mask = new byte[Arrays.stream(maskShape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = (byte) (i % 11 == 3 ? 0 : rnd.nextInt(3) == 0 ? 0 : 1);
        }
        if (maskShape[maskShape.length - 1] > 1) {
            Arrays.fill(mask, 0, maskShape[maskShape.length - 1], (byte) 0); // the first mask row allows nothing
        }
        long[] maskStrides = Broadcasting.stridesIn(maskShape, Broadcasting.contiguousStrides(maskShape), shape);
        long[] dims = Broadcasting.dims(shape, maskStrides, null);
        Path dir = dir("masked_softmax", shape);
        write(dir.resolve("x.bin"), x);
        try {
            Files.write(dir.resolve("mask.bin"), mask);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Object> args = new ArrayList<>(List.of(rows, cols, Float.toString(scale), mask.length));
        for (long v : dims) {
            args.add(v);
        }
        run(dir, "masked_softmax", LaunchConfig.rowThreads(cols), args.toArray());
        float[] y = read(dir.resolve("y.bin"));
        for (int r = 0; r < rows; r++) {
            long mo = 0;
            for (int d = shape.length - 2, rest = r; d >= 0; rest /= shape[d], d--) {
                mo += (long) (rest % shape[d]) * maskStrides[d];
            }
            double max = Double.NEGATIVE_INFINITY, z = 0;
            boolean[] ok = new boolean[cols];
            for (int c = 0; c < cols; c++) {
                ok[c] = mask[(int) (mo + c * maskStrides[shape.length - 1])] != 0;
                max = ok[c] ? Math.max(max, (double) scale * x[r * cols + c]) : max;
            }
            for (int c = 0; c < cols; c++) {
                z += ok[c] ? Math.exp((double) scale * x[r * cols + c] - max) : 0;
            }
            for (int c = 0; c < cols; c++) {
                double e = ok[c] ? Math.exp((double) scale * x[r * cols + c] - max) / z : 0;
                float a = y[r * cols + c];
                assertTrue(e == a || Math.abs(e - a) <= 1e-6 * (1 + Math.abs(e)), "masked softmax " + Arrays.toString(shape) + " mask "
                        + Arrays.toString(maskShape) + " [" + r + ", " + c + "]: expected " + e + ", got " + a);
            }
        }
    }

    private static Path dir(String op, int[] shape) {
        Path dir = tmp.resolve(op + "-" + Arrays.toString(shape).replaceAll("\\W+", "_"));
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void run(Path dir, String op, int threads, Object... args) {
        List<String> cmd = new ArrayList<>(List.of(emulator.toString(), op, "" + threads, dir.toString()));
        for (Object a : args) {
            cmd.add(a.toString());
        }
        Clang.Result r = Clang.run(cmd, 120);
        assertEquals(0, r.exit(), op + " " + cmd.subList(4, cmd.size()) + ": " + r.log());
    }

    private static float[] randn(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static void write(Path p, float[] x) {
        ByteBuffer buf = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(x);
        writeBytes(p, buf.array());
    }

    private static void writeLongs(Path p, long[] x) {
        ByteBuffer buf = ByteBuffer.allocate(8 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(x);
        writeBytes(p, buf.array());
    }

    private static void writeBytes(Path p, byte[] b) {
        try {
            Files.write(p, b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static float[] read(Path p) {
        ByteBuffer buf = bytes(p);
        float[] x = new float[buf.remaining() / 4];
        buf.asFloatBuffer().get(x);
        return x;
    }

    private static double[] readDoubles(Path p) {
        ByteBuffer buf = bytes(p);
        double[] x = new double[buf.remaining() / 8];
        buf.asDoubleBuffer().get(x);
        return x;
    }

    private static ByteBuffer bytes(Path p) {
        try {
            return ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
