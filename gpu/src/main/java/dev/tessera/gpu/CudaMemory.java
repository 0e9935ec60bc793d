package dev.tessera.gpu;

import dev.tessera.tensor.Device;
import dev.tessera.tensor.DeviceMemory;

/**
 * The CUDA buffer behind a tensor's {@link dev.tessera.tensor.Storage}: the device address of
 * element 0, its size in bytes and the {@link CudaBackend} whose allocator owns it.
 * {@link CudaTensorBackend} returns the block to that allocator once the storage is unreachable.
 */
public record CudaMemory(long pointer, long bytes, CudaBackend backend) implements DeviceMemory {
    @Override
    public Device device() {
        return Device.CUDA;
    }
}
