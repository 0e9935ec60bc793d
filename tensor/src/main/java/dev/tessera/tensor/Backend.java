package dev.tessera.tensor;

import java.util.function.Function;

/**
 * The seam between tensors and a device that is not the CPU: allocation, copies both ways, ops by
 * name, synchronisation. {@link Dispatch} is the one place that calls it: every op whose inputs are
 * on the backend's device arrives here as an {@link OpCall}. The CUDA backend lives in
 * {@code tessera-gpu} (found through {@link java.util.ServiceLoader}); {@link SimulatedBackend}
 * keeps its buffers in host memory so the seam is tested on every machine. Nothing here names CUDA,
 * so TornadoVM or OpenCL could implement it too.
 */
public interface Backend {
    /** The device this backend serves. */
    Device device();

    /** A short description for logs and {@code tessera info}, e.g. {@code cuda:0 (NVIDIA H100, sm_90)}. */
    String name();

    /** Zero-filled device storage of {@code length} elements of {@code dtype}. */
    Storage allocate(DType dtype, int length);

    /** Device storage holding a copy of the elements of {@code host}, a contiguous CPU tensor. */
    Storage upload(Tensor host);

    /** A contiguous CPU tensor with the elements of {@code onDevice} (any strides), once the device has written them. */
    Tensor download(Tensor onDevice);

    /**
     * Runs one op whose tensor inputs are on this device (0-d CPU tensors may join them as scalars) and
     * returns what the host kernel would: a tensor, an array of tensors or {@code null}, with every
     * tensor on this device. An op without a kernel here throws {@link UnsupportedOperationException}
     * naming the op and the device: there is no silent fallback to the host.
     */
    Object run(OpCall call);

    /** Waits until the work queued by the calling thread has finished. */
    void synchronize();

    /**
     * One op to run: its name (the {@link Dispatch} name, e.g. {@code binary}, {@code rms_norm}), its
     * non-tensor arguments (an enum, a record, an int[]), its tensor inputs (nullable entries for
     * optional ones; outputs written in place are inputs too) and the CPU kernel, which a backend
     * with host-addressable memory may run on host views of the inputs.
     */
    record OpCall(String name, Object attributes, Tensor[] inputs, Function<Tensor[], ?> hostKernel) {}
}
