package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Kernel argument packing, launch shapes, broadcasting strides and copy chunking: the CPU side of a launch. */
class PlumbingTest {
    @Test
    void kernelParamsPointAtEachValue() {
        long[] dims = {2, 3, 4};
        KernelArgs args = new KernelArgs().ptr(0xdead_beef_0000L).i64(1L << 40).i32(-7).f32(1.5f).longs(dims).ptr(0L);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = args.pack(a);
            assertEquals(6, args.size());
            assertEquals(6 * ValueLayout.ADDRESS.byteSize(), p.byteSize());
            MemorySegment[] v = new MemorySegment[6];
            for (int i = 0; i < 6; i++) {
                v[i] = p.getAtIndex(ValueLayout.ADDRESS, i).reinterpret(64);
            }
            assertEquals(0xdead_beef_0000L, v[0].get(ValueLayout.JAVA_LONG, 0));
            assertEquals(1L << 40, v[1].get(ValueLayout.JAVA_LONG, 0));
            assertEquals(-7, v[2].get(ValueLayout.JAVA_INT, 0));
            assertEquals(1.5f, v[3].get(ValueLayout.JAVA_FLOAT, 0));
            assertArrayEquals(dims, v[4].asSlice(0, 24).toArray(ValueLayout.JAVA_LONG));
            assertEquals(0L, v[5].get(ValueLayout.JAVA_LONG, 0));
        }
    }

    @Test
    void attentionLaunchShapes() {
        for (int d = 1; d <= 128; d++) {
            int lanes = LaunchConfig.attentionLanes(d);
            assertEquals(1, Integer.bitCount(lanes), "lanes split a warp evenly");
            assertTrue(lanes * LaunchConfig.ATTENTION_COLS >= d, "d " + d + " fits the register columns");
            assertTrue(lanes == 1 || (lanes / 2) * LaunchConfig.ATTENTION_COLS < d, "d " + d + ": no idle lane pairs");
        }
        assertEquals(4, LaunchConfig.attentionLanes(64));
        assertEquals(8, LaunchConfig.attentionLanes(128));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.attentionLanes(129));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.attentionLanes(0));
        LaunchConfig c = LaunchConfig.attention(96, 1024, 4); // gpt2: B*H = 96, T = 1024, 64 rows per block
        assertEquals(96 * 16, c.gridX());
        assertEquals(256, c.blockX());
        assertEquals(96 * 33, LaunchConfig.attention(96, 1025, 8).gridX(), "a partial last tile of 32 rows");
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.attention(1L << 30, 1 << 20, 1));
    }

    @Test
    void launchShapes() {
        LaunchConfig e = LaunchConfig.elementwise(1000, 256);
        assertEquals(4, e.gridX());
        assertEquals(256, e.blockX());
        assertEquals(1, LaunchConfig.elementwise(0, 256).gridX());
        assertEquals(65535 * 32, LaunchConfig.elementwise(1L << 40, 256).gridX(), "grid-stride loops cover the rest");
        assertEquals(32, LaunchConfig.rowThreads(1));
        assertEquals(32, LaunchConfig.rowThreads(128));
        assertEquals(64, LaunchConfig.rowThreads(129));
        assertEquals(1024, LaunchConfig.rowThreads(1 << 20));
        for (long c = 1; c < 100_000; c = c * 3 + 1) {
            int t = LaunchConfig.rowThreads(c);
            assertEquals(1, Integer.bitCount(t), "power of two for the tree reduction");
            assertEquals(0, t % 32, "whole warps for the shuffle reduction");
        }
        LaunchConfig r = LaunchConfig.perRow(10, 128, 512);
        assertEquals(10, r.gridX());
        assertEquals(512, r.sharedBytes());
        assertThrows(IllegalArgumentException.class, () -> new LaunchConfig(1, 1, 1, 2048, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> LaunchConfig.perRow(1L << 32, 32, 0));
    }

    @Test
    void broadcastStrides() {
        int[] out = Broadcasting.broadcastShape(new int[] {4, 1, 3}, new int[] {5, 1});
        assertArrayEquals(new int[] {4, 5, 3}, out);
        assertArrayEquals(new long[] {3, 0, 1}, Broadcasting.stridesIn(new int[] {4, 1, 3}, new long[] {3, 3, 1}, out));
        assertArrayEquals(new long[] {0, 1, 0}, Broadcasting.stridesIn(new int[] {5, 1}, new long[] {1, 1}, out));
        assertArrayEquals(new long[] {12, 4, 1}, Broadcasting.contiguousStrides(new int[] {2, 3, 4}));
        assertThrows(IllegalArgumentException.class, () -> Broadcasting.broadcastShape(new int[] {3}, new int[] {4}));
        long[] d = Broadcasting.dims(out, new long[] {3, 0, 1}, new long[] {0, 1, 0});
        assertEquals(1 + 3 * Broadcasting.MAX_DIMS, d.length);
        assertEquals(3, d[0]);
        assertEquals(5, d[2]);
        assertEquals(3, d[1 + Broadcasting.MAX_DIMS]);
        assertEquals(1, d[2 + 2 * Broadcasting.MAX_DIMS]);
        assertThrows(IllegalArgumentException.class, () -> Broadcasting.dims(new int[9], new long[9], new long[9]));
    }

    /** Emulates binary_strided_f32's index arithmetic on the CPU against direct broadcasting. */
    @Test
    void stridedKernelIndexArithmetic() {
        int[] as = {4, 1, 3}, bs = {5, 1};
        int[] out = Broadcasting.broadcastShape(as, bs);
        long[] d = Broadcasting.dims(out, Broadcasting.stridesIn(as, Broadcasting.contiguousStrides(as), out),
                Broadcasting.stridesIn(bs, Broadcasting.contiguousStrides(bs), out));
        float[] a = new float[12], b = new float[5];
        for (int i = 0; i < a.length; i++) {
            a[i] = i;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = 100 * i;
        }
        int rank = (int) d[0], m = Broadcasting.MAX_DIMS;
        for (long i = 0; i < Broadcasting.numel(out); i++) {
            long rem = i, oa = 0, ob = 0;
            for (int k = rank - 1; k >= 0; --k) {
                long idx = rem % d[1 + k];
                rem /= d[1 + k];
                oa += idx * d[1 + m + k];
                ob += idx * d[1 + 2 * m + k];
            }
            int x = (int) (i / 15), y = (int) (i / 3 % 5), z = (int) (i % 3);
            assertEquals(a[x * 3 + z] + b[y], a[(int) oa] + b[(int) ob]);
        }
    }

    @Test
    void copyChunks() {
        assertEquals(List.of(), PinnedStaging.chunks(0, 8));
        assertEquals(List.of(new PinnedStaging.Chunk(0, 8), new PinnedStaging.Chunk(8, 8), new PinnedStaging.Chunk(16, 4)),
                PinnedStaging.chunks(20, 8));
        long total = 0;
        for (PinnedStaging.Chunk c : PinnedStaging.chunks(100L << 20, PinnedStaging.CHUNK)) {
            assertEquals(total, c.offset());
            assertTrue(c.length() <= PinnedStaging.CHUNK);
            total += c.length();
        }
        assertEquals(100L << 20, total);
    }
}
