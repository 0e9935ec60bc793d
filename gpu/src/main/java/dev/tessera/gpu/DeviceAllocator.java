package dev.tessera.gpu;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A caching device allocator: {@code cuMemAlloc} and {@code cuMemFree} synchronise the device and
 * cost tens of microseconds, so a training step must not call them once per op. Requests are rounded
 * to a size class (at least 512 B; powers of two up to 1 MiB; whole 1 MiB granules above), and a
 * freed block goes onto a free list keyed by (stream, class) instead of back to the driver. The key
 * is the stream that used the block last ({@link #free(Block, long)}), because work queued there
 * may still be reading it: a reuse on that same stream is ordered after that work by the stream
 * itself, while handing it to another stream would need an event wait, which this allocator does
 * not do. {@link CudaBackend} uses one stream, so every block is reusable by every thread there.
 * {@link #emptyCache()} returns every cached block to the driver (the caller synchronises first).
 * When the raw allocator runs out of memory the cache is emptied and the request retried once.
 * Thread-safe (one lock; the critical sections are map operations).
 */
public final class DeviceAllocator {
    static final long MIN_BLOCK = 512;
    static final long GRANULE = 1L << 20;

    /** One allocated block: the raw pointer, its size class, and the stream it belongs to. */
    public record Block(long pointer, long size, long requested, long stream) {}

    /** A snapshot of the allocator's counters. */
    public record Stats(long bytesInUse, long bytesCached, long blocksInUse, long blocksCached, long rawAllocations,
            long rawFrees, long requests, long cacheHits) {}

    private record Key(long stream, long size) {}

    private final RawAllocator raw;
    private final Map<Key, ArrayDeque<Long>> free = new HashMap<>();
    private long bytesInUse, bytesCached, blocksInUse, blocksCached, rawAllocations, rawFrees, requests, cacheHits;

    public DeviceAllocator(RawAllocator raw) {
        this.raw = raw;
    }

    /** The size class for a request: 512 B minimum, powers of two up to 1 MiB, then multiples of 1 MiB. */
    public static long sizeClass(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("DeviceAllocator: negative size " + bytes);
        }
        if (bytes <= MIN_BLOCK) {
            return MIN_BLOCK;
        }
        if (bytes <= GRANULE) {
            return Long.highestOneBit(bytes - 1) << 1;
        }
        return Math.ceilDiv(bytes, GRANULE) * GRANULE;
    }

    /** A block of at least {@code bytes} for use on {@code stream} (0 = the default stream). */
    public synchronized Block allocate(long bytes, long stream) {
        long size = sizeClass(bytes);
        requests++;
        ArrayDeque<Long> list = free.get(new Key(stream, size));
        long ptr;
        if (list != null && !list.isEmpty()) {
            ptr = list.pop();
            bytesCached -= size;
            blocksCached--;
            cacheHits++;
        } else {
            ptr = rawAllocate(size);
        }
        bytesInUse += size;
        blocksInUse++;
        return new Block(ptr, size, bytes, stream);
    }

    private long rawAllocate(long size) {
        try {
            long p = raw.allocate(size);
            rawAllocations++;
            return p;
        } catch (RawAllocator.OutOfDeviceMemory e) {
            if (blocksCached == 0) {
                throw e;
            }
            emptyCache();
            long p = raw.allocate(size);
            rawAllocations++;
            return p;
        }
    }

    /** Returns {@code block} to the free list of the stream it was allocated for (no driver call). */
    public void free(Block block) {
        free(block, block.stream());
    }

    /** Returns {@code block} to the free list of {@code lastStream}, the stream whose work used it last. */
    public synchronized void free(Block block, long lastStream) {
        bytesInUse -= block.size();
        blocksInUse--;
        free.computeIfAbsent(new Key(lastStream, block.size()), k -> new ArrayDeque<>()).push(block.pointer());
        bytesCached += block.size();
        blocksCached++;
    }

    /** Frees every cached block through the raw allocator; blocks in use are untouched. */
    public synchronized void emptyCache() {
        for (ArrayDeque<Long> list : free.values()) {
            while (!list.isEmpty()) {
                raw.free(list.pop());
                rawFrees++;
            }
        }
        free.clear();
        bytesCached = 0;
        blocksCached = 0;
    }

    public synchronized Stats stats() {
        return new Stats(bytesInUse, bytesCached, blocksInUse, blocksCached, rawAllocations, rawFrees, requests, cacheHits);
    }
}
