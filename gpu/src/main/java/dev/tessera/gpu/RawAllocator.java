package dev.tessera.gpu;

/**
 * The uncached device allocator underneath {@link DeviceAllocator}: {@code cuMemAlloc}/{@code cuMemFree}
 * on a GPU, a counting fake in tests. Kept as an interface so the caching policy is tested without one.
 */
public interface RawAllocator {
    /** Allocates {@code bytes}; throws {@link OutOfDeviceMemory} when the device is full. */
    long allocate(long bytes);

    void free(long pointer);

    /** Signals that the device could not satisfy an allocation (the allocator then empties its cache and retries once). */
    final class OutOfDeviceMemory extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public OutOfDeviceMemory(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
