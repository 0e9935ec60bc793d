package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link CudaBackend}'s threading over {@link FakeDriver} (libcuda's C signatures as upcall stubs,
 * the current context kept per thread as the driver does): what needs a context works from a thread
 * that never used the backend, and every thread shares the one stream and so the cached blocks.
 */
class CudaBackendFakeDriverTest {
    private Arena arena;
    private CudaBackend cuda;
    private ExecutorService other;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        cuda = CudaBackend.open(FakeDriver.driver(arena), 0);
        other = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void close() {
        other.shutdownNow();
        cuda.close();
        arena.close();
    }

    private <T> T onAnotherThread(java.util.concurrent.Callable<T> work) throws Exception {
        Future<T> f = other.submit(work);
        return f.get();
    }

    @Test
    void emptyCacheFromAThreadThatNeverUsedTheBackend() throws Exception {
        long p = cuda.allocate(1000);
        cuda.free(p);
        onAnotherThread(() -> {
            cuda.emptyCache(); // cuCtxSynchronize and cuMemFree need the context current on this thread
            return null;
        });
        assertEquals(List.of(p), FakeDriver.frees);
        assertEquals(0, cuda.allocator().stats().bytesCached());
    }

    @Test
    void everyThreadUsesTheOneStreamSoFreedBlocksServeAnyThread() throws Exception {
        long p = cuda.allocate(4096);
        cuda.free(p);
        assertEquals(cuda.stream().address(), (long) onAnotherThread(() -> cuda.stream().address()));
        assertEquals(p, (long) onAnotherThread(() -> cuda.allocate(4096)), "the cached block, reused by another thread");
        assertEquals(1, cuda.allocator().stats().rawAllocations());
    }

    @Test
    void zeroPassesAByteAndTheStream() {
        long p = cuda.allocate(64);
        cuda.zero(p, 64);
        assertEquals(List.of(Long.toHexString(p) + " 0 64 " + Long.toHexString(cuda.stream().address())), FakeDriver.memsets);
    }
}
