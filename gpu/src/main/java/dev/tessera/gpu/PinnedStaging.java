package dev.tessera.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Host↔device copies through page-locked memory. The driver cannot DMA from Java heap arrays (and
 * FFM cannot pass heap segments to native code), and a copy from pageable memory is staged by the
 * driver anyway; copying through our own pinned buffer of {@link #CHUNK} bytes keeps large copies at
 * full PCIe speed and bounds the pinned footprint. Small copies go through a temporary native
 * buffer. One instance per thread (it owns its stream's staging buffer); not thread-safe.
 */
final class PinnedStaging implements AutoCloseable {
    /** Staging buffer size; copies above {@link #SMALL} go through it in chunks of this size. */
    static final long CHUNK = 8L << 20;
    /** At or below this many bytes a plain temporary native buffer is used. */
    static final long SMALL = 64L << 10;

    /** One chunk of a copy: byte offset and length. */
    record Chunk(long offset, long length) {}

    private final CudaDriver driver;
    private MemorySegment pinned;

    PinnedStaging(CudaDriver driver) {
        this.driver = driver;
    }

    /** Splits {@code bytes} into consecutive chunks of at most {@code chunk} bytes. */
    static List<Chunk> chunks(long bytes, long chunk) {
        if (bytes < 0 || chunk <= 0) {
            throw new IllegalArgumentException("PinnedStaging.chunks: bytes " + bytes + ", chunk " + chunk);
        }
        List<Chunk> out = new ArrayList<>();
        for (long off = 0; off < bytes; off += chunk) {
            out.add(new Chunk(off, Math.min(chunk, bytes - off)));
        }
        return out;
    }

    private MemorySegment buffer() {
        if (pinned == null) {
            pinned = driver.memAllocHost(CHUNK);
        }
        return pinned;
    }

    /**
     * Copies on {@code stream}, so the copy is ordered after kernels already queued there (a buffer
     * reused from the allocator may still be read by one), and returns once the data is on the device.
     */
    void toDevice(MemorySegment src, long dst, long bytes, MemorySegment stream) {
        if (bytes <= SMALL) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(Math.max(1, bytes));
                MemorySegment.copy(src, 0, tmp, 0, bytes);
                driver.memcpyHtoDAsync(dst, tmp, bytes, stream);
                driver.streamSynchronize(stream);
            }
            return;
        }
        MemorySegment buf = buffer();
        for (Chunk c : chunks(bytes, CHUNK)) {
            MemorySegment.copy(src, c.offset(), buf, 0, c.length());
            driver.memcpyHtoDAsync(dst + c.offset(), buf, c.length(), stream);
            // the buffer is overwritten by the next chunk
            driver.streamSynchronize(stream);
        }
    }

    /** Copies on {@code stream} after the work queued there; returns once the data is in {@code dst}. */
    void toHost(long src, MemorySegment dst, long bytes, MemorySegment stream) {
        if (bytes <= SMALL) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment tmp = a.allocate(Math.max(1, bytes));
                driver.memcpyDtoHAsync(tmp, src, bytes, stream);
                driver.streamSynchronize(stream);
                MemorySegment.copy(tmp, 0, dst, 0, bytes);
            }
            return;
        }
        MemorySegment buf = buffer();
        for (Chunk c : chunks(bytes, CHUNK)) {
            driver.memcpyDtoHAsync(buf, src + c.offset(), c.length(), stream);
            driver.streamSynchronize(stream);
            MemorySegment.copy(buf, 0, dst, c.offset(), c.length());
        }
    }

    @Override
    public void close() {
        if (pinned != null) {
            driver.memFreeHost(pinned);
            pinned = null;
        }
    }
}
