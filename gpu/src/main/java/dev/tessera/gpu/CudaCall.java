package dev.tessera.gpu;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One op on its way to a {@link CudaOps} call: its inputs as {@link DeviceTensor} views (0-d CPU
 * scalars uploaded), results wrapped back into tensors on {@link Device#CUDA}, temporaries returned
 * to the allocator when the op is queued, and one-line errors that start with the op's key.
 */
final class CudaCall implements AutoCloseable {
    final CudaOps ops;
    private final CudaBackend cuda;
    private final String key;
    private final dev.tessera.tensor.Backend.OpCall call;
    private final List<DeviceTensor> temporaries = new ArrayList<>();

    CudaCall(CudaBackend cuda, String key, dev.tessera.tensor.Backend.OpCall call) {
        this.cuda = cuda;
        this.key = key;
        this.call = call;
        this.ops = new CudaOps(cuda);
    }

    Object attributes() {
        return call.attributes();
    }

    /** Input {@code i} as the caller passed it. */
    Tensor tensor(int i) {
        if (i >= call.inputs().length || call.inputs()[i] == null) {
            throw unsupported("input " + i + " is missing");
        }
        return call.inputs()[i];
    }

    int inputs() {
        return call.inputs().length;
    }

    /** An error for a case the CUDA kernel does not handle, starting with the op's key. */
    UnsupportedOperationException unsupported(String why) {
        return new UnsupportedOperationException(key + ": " + why);
    }

    /** Input {@code i}, F32, as a view over its device memory (any strides; a CPU scalar is uploaded). */
    DeviceTensor f32(int i) {
        return view(tensor(i), DType.F32, "input " + i);
    }

    /** Input {@code i}, F32 and contiguous: the view itself, or a contiguous copy freed after the op. */
    DeviceTensor dense(int i) {
        DeviceTensor d = f32(i);
        return d.isContiguous() ? d : temporary(ops.contiguous(d));
    }

    /** Input {@code i}, F32 and contiguous, as a tensor that outlives the op (a saved tensor): itself, or a contiguous copy. */
    Tensor denseTensor(int i) {
        DeviceTensor d = f32(i);
        return d.isContiguous() ? tensor(i) : result(ops.contiguous(d));
    }

    /** Input {@code i} for a kernel that writes it in place: F32 and contiguous, or a one-line error. */
    DeviceTensor inPlace(int i) {
        DeviceTensor d = f32(i);
        if (!d.isContiguous() || tensor(i).device() != Device.CUDA) {
            throw unsupported("the cuda kernel writes only contiguous device tensors in place, input " + i + " has shape "
                    + Arrays.toString(d.shape()) + " strides " + Arrays.toString(d.strides()));
        }
        return d;
    }

    /** A view of {@code t} (a device tensor of {@code dtype}, or a 0-d CPU scalar, uploaded). */
    DeviceTensor view(Tensor t, DType dtype, String what) {
        if (t.dtype() != dtype) {
            throw unsupported("the cuda kernel needs " + dtype + " for " + what + ", got " + t.dtype());
        }
        if (t.device() == Device.CPU) {
            return temporary(DeviceTensor.fromHost(cuda, t));
        }
        int[] s = t.strides();
        long[] strides = new long[s.length];
        for (int d = 0; d < s.length; d++) {
            strides[d] = s[d];
        }
        if (t.isContiguous()) { // size-1 dims may carry any stride in a contiguous tensor; the kernels compare strides exactly
            strides = Broadcasting.contiguousStrides(t.shape());
        }
        long pointer = CudaTensorBackend.memory(t).pointer() + (long) t.offset() * dtype.byteSize();
        return new DeviceTensor(cuda, pointer, t.shape(), strides, dtype, false);
    }

    /** A host tensor copied to the device for the op's use only (a scalar operand, say). */
    DeviceTensor upload(Tensor host) {
        return temporary(DeviceTensor.fromHost(cuda, host));
    }

    /** A host tensor copied to the device as a tensor that outlives the op (saved for a backward, say). */
    Tensor toDevice(Tensor host) {
        return result(DeviceTensor.fromHost(cuda, host));
    }

    /** {@code d}, returned to the allocator once the op is queued. */
    DeviceTensor temporary(DeviceTensor d) {
        temporaries.add(d);
        return d;
    }

    /** A result the kernel allocated, as a tensor on the CUDA device that owns the buffer from now on. */
    Tensor result(DeviceTensor owned) {
        return resultAs(owned, owned.shape());
    }

    /** {@link #result} viewed in {@code shape} (the same element count, contiguous). */
    Tensor resultAs(DeviceTensor owned, int[] shape) {
        return Tensor.of(CudaTensorBackend.adopt(cuda, owned.dtype(), (int) owned.numel(), owned.pointer()), shape);
    }

    /** Marks input {@code i} as written in place, so autograd sees the new version. */
    void wrote(int i) {
        tensor(i).storage().bumpVersion();
    }

    @Override
    public void close() {
        for (DeviceTensor t : temporaries) {
            t.close();
        }
    }
}
