package dev.tessera.tensor;

/**
 * A backend's handle to memory on its device (a CUDA pointer, a simulated device's buffer). Tensor
 * code never looks inside: it passes the handle back to the {@link Backend} that made it.
 */
public interface DeviceMemory {
    /** The device this memory is on. */
    Device device();
}
