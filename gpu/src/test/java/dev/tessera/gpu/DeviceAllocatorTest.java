package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class DeviceAllocatorTest {
    /** Hands out fake addresses, counts calls, and can run out of memory at a byte limit. */
    static final class FakeRaw implements RawAllocator {
        final Map<Long, Long> live = new HashMap<>();
        long next = 0x1000_0000L, allocs, frees, limit = Long.MAX_VALUE, used;

        @Override
        public long allocate(long bytes) {
            if (used + bytes > limit) {
                throw new OutOfDeviceMemory("fake OOM", null);
            }
            allocs++;
            used += bytes;
            long p = next;
            next += bytes + 4096;
            live.put(p, bytes);
            return p;
        }

        @Override
        public void free(long pointer) {
            Long b = live.remove(pointer);
            if (b == null) {
                throw new IllegalStateException("double free");
            }
            used -= b;
            frees++;
        }
    }

    @Test
    void sizeClasses() {
        assertEquals(512, DeviceAllocator.sizeClass(0));
        assertEquals(512, DeviceAllocator.sizeClass(1));
        assertEquals(512, DeviceAllocator.sizeClass(512));
        assertEquals(1024, DeviceAllocator.sizeClass(513));
        assertEquals(4096, DeviceAllocator.sizeClass(4000));
        assertEquals(1 << 20, DeviceAllocator.sizeClass((1 << 19) + 1));
        assertEquals(1 << 20, DeviceAllocator.sizeClass(1 << 20));
        assertEquals(2 << 20, DeviceAllocator.sizeClass((1 << 20) + 1));
        assertEquals(3 << 20, DeviceAllocator.sizeClass((2 << 20) + 5));
        assertThrows(IllegalArgumentException.class, () -> DeviceAllocator.sizeClass(-1));
    }

    @Property
    void sizeClassCoversAndBoundsWaste(@ForAll @LongRange(min = 0, max = 1L << 34) long bytes) {
        long c = DeviceAllocator.sizeClass(bytes);
        assertTrue(c >= bytes && c >= 512);
        if (c <= 1 << 20) {
            assertEquals(1, Long.bitCount(c));
            assertTrue(c == 512 || c < 2 * bytes);
        } else {
            assertEquals(0, c % (1 << 20));
            assertTrue(c - bytes < 1 << 20);
        }
        assertEquals(c, DeviceAllocator.sizeClass(c), "classes are fixed points");
    }

    @Test
    void freedBlocksAreReusedForTheSameClassAndStream() {
        FakeRaw raw = new FakeRaw();
        DeviceAllocator a = new DeviceAllocator(raw);
        DeviceAllocator.Block b1 = a.allocate(1000, 7);
        a.free(b1);
        DeviceAllocator.Block b2 = a.allocate(900, 7); // same 1024 class
        assertEquals(b1.pointer(), b2.pointer());
        assertEquals(1, raw.allocs);
        DeviceAllocator.Block other = a.allocate(900, 8); // other stream: no reuse
        assertNotEquals(b2.pointer(), other.pointer());
        DeviceAllocator.Block bigger = a.allocate(5000, 7);
        assertEquals(3, raw.allocs);
        var s = a.stats();
        assertEquals(1024 + 1024 + 8192, s.bytesInUse());
        assertEquals(0, s.bytesCached());
        assertEquals(3, s.rawAllocations());
        assertEquals(4, s.requests());
        assertEquals(1, s.cacheHits());
        a.free(bigger);
        assertEquals(8192, a.stats().bytesCached());
    }

    @Test
    void steadyTrainingLoopMakesNoRawAllocations() {
        FakeRaw raw = new FakeRaw();
        DeviceAllocator a = new DeviceAllocator(raw);
        long[] sizes = {4096 * 4, 4096 * 4, 123_456, 3 << 20, 77, 1 << 20, 4096 * 4};
        for (int step = 0; step < 100; step++) {
            List<DeviceAllocator.Block> live = new ArrayList<>();
            for (long s : sizes) {
                live.add(a.allocate(s, 1));
            }
            for (DeviceAllocator.Block b : live) {
                a.free(b);
            }
            if (step == 0) {
                assertEquals(sizes.length, raw.allocs);
            }
        }
        assertEquals(sizes.length, raw.allocs, "only the first step allocates from the driver");
        var s = a.stats();
        assertEquals(0, s.bytesInUse());
        assertEquals(0, s.blocksInUse());
        assertEquals(100L * sizes.length, s.requests());
        assertEquals(99L * sizes.length, s.cacheHits());
    }

    @Test
    void emptyCacheReturnsCachedBlocksOnly() {
        FakeRaw raw = new FakeRaw();
        DeviceAllocator a = new DeviceAllocator(raw);
        DeviceAllocator.Block keep = a.allocate(2048, 0);
        a.free(a.allocate(4096, 0));
        a.free(a.allocate(3 << 20, 0));
        a.emptyCache();
        assertEquals(2, raw.frees);
        assertEquals(1, raw.live.size());
        assertTrue(raw.live.containsKey(keep.pointer()));
        var s = a.stats();
        assertEquals(0, s.bytesCached());
        assertEquals(2048, s.bytesInUse());
        assertEquals(2, s.rawFrees());
    }

    @Test
    void outOfMemoryEmptiesTheCacheAndRetries() {
        FakeRaw raw = new FakeRaw();
        raw.limit = 4 << 20;
        DeviceAllocator a = new DeviceAllocator(raw);
        a.free(a.allocate(3 << 20, 0)); // cached 3 MiB
        DeviceAllocator.Block b = a.allocate(2 << 20, 0); // needs the cached block released
        assertEquals(2 << 20, b.size());
        assertEquals(1, raw.frees);
        assertThrows(RawAllocator.OutOfDeviceMemory.class, () -> a.allocate(3 << 20, 0));
    }

    /**
     * A block goes back under the stream that used it last: work queued there may still read it, so
     * it is reused in that stream's order, never handed to the allocating stream without a wait.
     */
    @Test
    void freedBlockIsKeptForTheLastUsersStream() {
        FakeRaw raw = new FakeRaw();
        DeviceAllocator a = new DeviceAllocator(raw);
        DeviceAllocator.Block b = a.allocate(4096, 1);
        a.free(b, 2); // last used on stream 2
        DeviceAllocator.Block onAllocator = a.allocate(4096, 1);
        assertNotEquals(b.pointer(), onAllocator.pointer(), "stream 1 must not get a block stream 2 may still read");
        DeviceAllocator.Block onLastUser = a.allocate(4096, 2);
        assertEquals(b.pointer(), onLastUser.pointer());
        assertEquals(2, onLastUser.stream());
        a.free(onLastUser); // one-argument free: the block's own (now stream 2)
        assertEquals(b.pointer(), a.allocate(4096, 2).pointer());
        assertEquals(2, raw.allocs);
    }
}
