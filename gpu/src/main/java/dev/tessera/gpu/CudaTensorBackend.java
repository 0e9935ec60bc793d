package dev.tessera.gpu;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.lang.ref.Cleaner;
import java.util.function.Supplier;

/**
 * The CUDA device behind the tensor module's seam ({@link dev.tessera.tensor.Backend}), found by
 * {@link java.util.ServiceLoader}: {@code Dispatch.backend(Device.CUDA)} loads it the first time a
 * tensor goes to the GPU. Construction touches no native library, so the provider loads on any
 * machine; the CUDA context opens on first real use (allocation, copy, op), and without a driver
 * that use fails with {@link CudaBackend#open()}'s one-line error naming {@code libcuda.so.1}.
 *
 * <p>Storage is a {@link CudaMemory} block from {@link CudaBackend}'s caching allocator, returned
 * to it by a {@link Cleaner} once the storage is unreachable (the allocator keeps the block on its
 * stream's free list, so work already queued on that stream finishes before it is reused). Ops go
 * through {@link CudaKernels}' table from op key ({@link #opKey}) to {@link CudaOps} calls; an op
 * without an entry throws {@link UnsupportedOperationException} in one line: there is no silent
 * fallback to the host. Every op queues on the calling thread's stream, so tensors are meant to be
 * used from one thread (ops from another thread's stream are not ordered after them).
 */
public final class CudaTensorBackend implements dev.tessera.tensor.Backend {
    /**
     * How many of the ops the presets dispatch have a kernel here, and how many they dispatch: the
     * lines of {@code gpu/src/test/resources/dev/tessera/gpu/op-census.txt} (written by the models
     * module's OpCensusTest) for which {@link #supports} holds. CudaCoverageTest checks both numbers.
     */
    static final int CENSUS_COVERED = 35;
    static final int CENSUS_OPS = 35;

    private static final Cleaner CLEANER = Cleaner.create();

    private final Supplier<CudaBackend> opener;
    private volatile CudaBackend cuda;

    /** The provider {@link java.util.ServiceLoader} constructs: device 0, opened on first use. */
    public CudaTensorBackend() {
        this(CudaBackend::open);
    }

    CudaTensorBackend(Supplier<CudaBackend> opener) {
        this.opener = opener;
    }

    /** The CUDA context, opened on the first call (a one-line {@link IllegalStateException} without a driver). */
    CudaBackend cuda() {
        CudaBackend c = cuda;
        if (c == null) {
            synchronized (this) {
                if (cuda == null) {
                    cuda = opener.get();
                }
                c = cuda;
            }
        }
        return c;
    }

    /**
     * The key an op is looked up by, and its line in the op census: the op's name, a space and its
     * attributes — an enum by its constant ({@code binary ADD}), none as {@code -}, anything else by
     * its class's simple name ({@code rms_norm RmsNormFunction}, {@code sum Object[]}).
     */
    public static String opKey(String op, Object attributes) {
        if (attributes == null) {
            return op + " -";
        }
        if (attributes instanceof Enum<?> e) {
            return op + " " + e.name();
        }
        String name = attributes.getClass().getName();
        String simple = attributes.getClass().getSimpleName();
        return op + " " + (simple.isEmpty() ? name.substring(name.lastIndexOf('.') + 1) : simple);
    }

    /** Whether op {@code op} with these attributes has a CUDA kernel here (dtype and layout are checked when it runs). */
    public static boolean supports(String op, Object attributes) {
        return CudaKernels.TABLE.containsKey(opKey(op, attributes));
    }

    /**
     * What the CUDA kernel of this op reads from its attributes object, by name: ε for RMSNorm, the
     * RoPE convention, cross-entropy's rows, ignore index and smoothing, attention's scale and mask,
     * and for {@code AdamW.step} (inputs: param, grad, exp_avg, exp_avg_sq) the step count, learning
     * rate, weight decay, betas and ε. Empty for ops that read nothing; a one-line
     * {@link UnsupportedOperationException} when a setting cannot be read. For diagnostics and tests:
     * it reads what {@link #run} reads, without a GPU.
     */
    public static java.util.Map<String, Object> settings(String op, Object attributes, Tensor... inputs) {
        return FunctionSettings.of(opKey(op, attributes), attributes, inputs);
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String name() {
        try {
            return cuda().name();
        } catch (RuntimeException e) {
            return "cuda (unavailable: " + e.getMessage() + ")";
        }
    }

    @Override
    public Storage allocate(DType dtype, int length) {
        CudaBackend b = cuda();
        long bytes = (long) length * dtype.byteSize();
        long pointer = b.allocate(Math.max(1, bytes));
        if (bytes > 0) {
            b.zero(pointer, bytes);
        }
        return adopt(b, dtype, length, pointer);
    }

    @Override
    public Storage upload(Tensor host) {
        CudaBackend b = cuda();
        Tensor c = host.contiguous();
        long bytes = (long) c.numel() * c.dtype().byteSize();
        long pointer = b.allocate(Math.max(1, bytes));
        if (bytes > 0) {
            b.copyToDevice(c.storage().segment().asSlice((long) c.offset() * c.dtype().byteSize(), bytes), pointer, bytes);
        }
        return adopt(b, c.dtype(), c.numel(), pointer);
    }

    /** Copies back only the span of device memory the view reaches, then makes it contiguous on the host. */
    @Override
    public Tensor download(Tensor onDevice) {
        if (onDevice.numel() == 0) {
            return Tensor.zeros(onDevice.dtype(), onDevice.shape());
        }
        long[] span = span(onDevice.shape(), onDevice.strides(), onDevice.offset());
        DType dtype = onDevice.dtype();
        CudaMemory m = memory(onDevice);
        Storage host = Storage.allocate(dtype, span[1] - span[0] + 1);
        m.backend().copyToHost(m.pointer() + span[0] * dtype.byteSize(), host.segment(), (span[1] - span[0] + 1) * dtype.byteSize());
        return Tensor.asStrided(host, onDevice.shape(), onDevice.strides(), (int) (onDevice.offset() - span[0])).contiguous();
    }

    /** The first and last storage index a non-empty view reaches (negative strides included). */
    static long[] span(int[] shape, int[] strides, int offset) {
        long lo = offset;
        long hi = offset;
        for (int d = 0; d < shape.length; d++) {
            long reach = (long) (shape[d] - 1) * strides[d];
            lo += Math.min(reach, 0);
            hi += Math.max(reach, 0);
        }
        return new long[] {lo, hi};
    }

    @Override
    public Object run(OpCall call) {
        String key = opKey(call.name(), call.attributes());
        CudaKernels.Entry entry = CudaKernels.TABLE.get(key);
        if (entry == null) {
            throw new UnsupportedOperationException(key + ": no cuda kernel (the CUDA backend covers " + CENSUS_COVERED + " of the "
                    + CENSUS_OPS + " ops the presets use; see gpu/README.md)");
        }
        try (CudaCall c = new CudaCall(cuda(), key, call)) {
            return entry.kernel().run(c);
        }
    }

    @Override
    public void synchronize() {
        cuda().synchronize();
    }

    /** The CUDA memory of a tensor on this device. */
    static CudaMemory memory(Tensor t) {
        if (!(t.storage().deviceMemory() instanceof CudaMemory m)) {
            throw new IllegalArgumentException("cuda: a tensor on " + t.device().label() + " is not in CUDA memory");
        }
        return m;
    }

    /** Device storage over {@code length} elements at {@code pointer}, freed to {@code b}'s allocator when unreachable. */
    static Storage adopt(CudaBackend b, DType dtype, int length, long pointer) {
        Storage s = Storage.onDevice(dtype, length, new CudaMemory(pointer, (long) length * dtype.byteSize(), b));
        CLEANER.register(s, () -> b.free(pointer));
        return s;
    }
}
