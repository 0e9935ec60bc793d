package dev.tessera.gpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The raw device layer under {@link CudaTensorBackend}: device buffers as opaque 64-bit addresses,
 * copies both ways, named kernels on {@link DeviceTensor} views, and a synchronisation point.
 * {@link CudaBackend} implements it over the CUDA driver API, NVRTC and cuBLAS. Tensors never see
 * it: their seam is the tensor module's {@link dev.tessera.tensor.Backend}, which
 * {@code CudaTensorBackend} implements on top of this one, so another accelerator (TornadoVM,
 * OpenCL) would plug in at that seam.
 */
public interface DeviceRuntime extends AutoCloseable {
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
