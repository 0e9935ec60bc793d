package dev.tessera.gpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The seam between Tessera's tensors and an accelerator: raw device buffers, copies both ways,
 * named ops on device buffers, and a synchronisation point. {@link CudaBackend} implements it over
 * the CUDA driver API, NVRTC and cuBLAS. TornadoVM (the first choice, not obtainable on these
 * machines) or OpenCL could implement the same interface later: nothing in it names CUDA.
 * Pointers are opaque 64-bit device addresses.
 *
 * <p>DESIGN.md places this seam in the tensor module; it lives in {@code gpu} for now so the tensor
 * module stays untouched, and can move down unchanged (it imports only the JDK).
 */
public interface Backend extends AutoCloseable {
    /** A short name for logs and {@code tessera info}, e.g. {@code cuda:0 (NVIDIA H100, sm_90)}. */
    String name();

    /** A device buffer of at least {@code bytes}, usable on the calling thread's stream. */
    long allocate(long bytes);

    /** Returns a buffer from {@link #allocate}; it may be reused by later allocations. */
    void free(long pointer);

    /** Copies {@code bytes} from host memory (heap or native) to the device. */
    void copyToDevice(MemorySegment src, long dstPointer, long bytes);

    /** Copies {@code bytes} from the device to host memory; returns when the data is there. */
    void copyToHost(long srcPointer, MemorySegment dst, long bytes);

    /**
     * Runs the op named {@code op} (see the implementation's list) reading {@code inputs} and writing
     * into {@code outputs}, with scalar attributes by name. Asynchronous with respect to the host.
     */
    void run(String op, List<DeviceTensor> inputs, List<DeviceTensor> outputs, Map<String, Number> attributes);

    /** Waits until all work queued by the calling thread has finished. */
    void synchronize();

    /** Releases the device resources; buffers still allocated become invalid. */
    @Override
    void close();
}
