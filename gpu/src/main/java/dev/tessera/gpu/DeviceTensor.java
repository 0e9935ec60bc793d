package dev.tessera.gpu;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A tensor whose elements live in device memory: shape, element strides, dtype and the device
 * address of element 0, plus the {@link DeviceRuntime} that owns the buffer. Data crosses to the host
 * only through {@link #toHost()}, i.e. when the user asks for it. {@link #close()} returns the
 * buffer to the backend's caching allocator; views made with {@link #withLayout} share the buffer
 * and do not own it.
 */
public final class DeviceTensor implements AutoCloseable {
    private final DeviceRuntime backend;
    private final long pointer;
    private final int[] shape;
    private final long[] strides;
    private final DType dtype;
    private final boolean owner;
    private boolean closed;

    DeviceTensor(DeviceRuntime backend, long pointer, int[] shape, long[] strides, DType dtype, boolean owner) {
        this.backend = backend;
        this.pointer = pointer;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.dtype = dtype;
        this.owner = owner;
    }

    /** A new contiguous, uninitialised device tensor. */
    public static DeviceTensor empty(DeviceRuntime backend, DType dtype, int... shape) {
        long bytes = Math.max(1, Broadcasting.numel(shape)) * dtype.byteSize();
        return new DeviceTensor(backend, backend.allocate(bytes), shape, Broadcasting.contiguousStrides(shape), dtype, true);
    }

    /** Copies {@code t} (made contiguous first) to the device. */
    public static DeviceTensor fromHost(DeviceRuntime backend, Tensor t) {
        Tensor c = t.contiguous();
        DeviceTensor d = empty(backend, c.dtype(), c.shape());
        long bytes = (long) c.numel() * c.dtype().byteSize();
        if (bytes > 0) {
            MemorySegment src = c.storage().segment().asSlice((long) c.offset() * c.dtype().byteSize(), bytes);
            backend.copyToDevice(src, d.pointer, bytes);
        }
        return d;
    }

    /** Copies the elements to a new host tensor (blocking). Requires a contiguous layout. */
    public Tensor toHost() {
        requireContiguous("toHost");
        Storage s = Storage.allocate(dtype, numel());
        long bytes = numel() * dtype.byteSize();
        if (bytes > 0) {
            backend.copyToHost(pointer, s.segment(), bytes);
        }
        return Tensor.of(s, shape);
    }

    /** A view over the same buffer with another shape and strides (no copy, not owning). */
    public DeviceTensor withLayout(int[] newShape, long[] newStrides) {
        return new DeviceTensor(backend, pointer, newShape, newStrides, dtype, false);
    }

    /** A contiguous view with another shape of the same element count. */
    public DeviceTensor view(int... newShape) {
        requireContiguous("view");
        if (Broadcasting.numel(newShape) != numel()) {
            throw new IllegalArgumentException("DeviceTensor.view: " + Arrays.toString(shape) + " has " + numel()
                    + " elements, " + Arrays.toString(newShape) + " needs " + Broadcasting.numel(newShape));
        }
        return withLayout(newShape, Broadcasting.contiguousStrides(newShape));
    }

    public boolean isContiguous() {
        return Arrays.equals(strides, Broadcasting.contiguousStrides(shape)) || numel() <= 1;
    }

    void requireContiguous(String what) {
        if (!isContiguous()) {
            throw new IllegalArgumentException("DeviceTensor." + what + ": needs a contiguous tensor, got shape "
                    + Arrays.toString(shape) + " strides " + Arrays.toString(strides));
        }
    }

    public DeviceRuntime backend() {
        return backend;
    }

    /** Device address of element 0. */
    public long pointer() {
        return pointer;
    }

    public int[] shape() {
        return shape.clone();
    }

    public long[] strides() {
        return strides.clone();
    }

    public DType dtype() {
        return dtype;
    }

    public int rank() {
        return shape.length;
    }

    public int size(int dim) {
        return shape[dim < 0 ? dim + shape.length : dim];
    }

    public long numel() {
        return Broadcasting.numel(shape);
    }

    @Override
    public synchronized void close() {
        if (owner && !closed) {
            closed = true;
            backend.free(pointer);
        }
    }

    @Override
    public String toString() {
        return "DeviceTensor" + Arrays.toString(shape) + " " + dtype + " on " + backend.name();
    }
}
