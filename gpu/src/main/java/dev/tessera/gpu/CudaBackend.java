package dev.tessera.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * {@link DeviceRuntime} over the CUDA driver API: one device, its primary context (shared with cuBLAS),
 * one non-blocking stream for the whole backend, a pinned staging buffer and cuBLAS handle per
 * thread of work (created on that thread's first call, which also makes the context current there),
 * a {@link DeviceAllocator} over {@code cuMemAlloc}, and kernels compiled by NVRTC for the device's
 * compute capability through the on-disk {@link KernelCache}. Without a driver, {@link #open()}
 * throws a one-line {@link IllegalStateException}; NVRTC and cuBLAS are located on first use.
 *
 * <p>Single-stream semantics: every thread queues its work on the same stream, so device work runs
 * in the order the host queued it. A tensor written by one thread and read by another needs no
 * event, only the usual Java hand-off (the reader queues after the writer), and a freed block
 * reused by any thread is ordered after every kernel that used it. Per-thread streams would
 * overlap independent work but need an event recorded on the writer's stream and waited on by the
 * reader's for every cross-thread tensor, and allocator blocks keyed by their last user's stream;
 * one training step is one thread's sequence of dependent kernels, so the overlap buys little and
 * the single stream is the simplest scheme that is correct.
 */
public final class CudaBackend implements DeviceRuntime {
    static final String NO_DRIVER = "cuda: libcuda.so.1 not found; the CUDA backend needs an NVIDIA driver";

    private final CudaDriver driver;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final String arch;
    private final String deviceName;
    private final DeviceAllocator allocator;
    private final Map<Long, DeviceAllocator.Block> blocks = new ConcurrentHashMap<>();
    private final Map<String, MemorySegment> modules = new ConcurrentHashMap<>();
    private final Map<String, MemorySegment> functions = new ConcurrentHashMap<>();
    private final List<PerThread> threads = new CopyOnWriteArrayList<>();
    private final ThreadLocal<PerThread> perThread = ThreadLocal.withInitial(this::newThreadState);
    private volatile Nvrtc nvrtc;
    private volatile KernelCache kernelCache;
    private volatile Cublas cublas;
    private volatile boolean closed;

    /** Per-thread staging buffer and cuBLAS handle (neither is thread-safe); both use the backend's stream. */
    private final class PerThread {
        final MemorySegment stream;
        final PinnedStaging staging;
        MemorySegment cublasHandle;

        PerThread() {
            driver.contextSetCurrent(context);
            stream = CudaBackend.this.stream;
            staging = new PinnedStaging(driver);
        }
    }

    private CudaBackend(CudaDriver driver, int ordinal) {
        this.driver = driver;
        driver.init();
        int count = driver.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new IllegalStateException("cuda: device " + ordinal + " requested, " + count + " present");
        }
        this.device = driver.deviceGet(ordinal);
        this.context = driver.primaryContextRetain(device);
        driver.contextSetCurrent(context);
        this.stream = driver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
        this.arch = "sm_" + driver.computeCapability(device);
        this.deviceName = driver.deviceName(device);
        this.allocator = new DeviceAllocator(new RawAllocator() {
            @Override
            public long allocate(long bytes) {
                try {
                    return driver.memAlloc(bytes);
                } catch (CudaException e) {
                    if (e.status() == 2) { // CUDA_ERROR_OUT_OF_MEMORY
                        throw new OutOfDeviceMemory(e.getMessage(), e);
                    }
                    throw e;
                }
            }

            @Override
            public void free(long pointer) {
                driver.memFree(pointer);
            }
        });
    }

    /** Opens device 0. */
    public static CudaBackend open() {
        return open(0);
    }

    public static CudaBackend open(int ordinal) {
        return open(ordinal, () -> CudaLibraries.locate(CudaLibraries.DRIVER));
    }

    /** {@code driverLocator} finds libcuda (injected by tests to simulate a machine without one). */
    static CudaBackend open(int ordinal, Supplier<Optional<String>> driverLocator) {
        String path = driverLocator.get().orElseThrow(() -> new IllegalStateException(NO_DRIVER));
        return new CudaBackend(CudaDriver.load(path), ordinal);
    }

    /** Over an already bound driver (tests: a fake one). */
    static CudaBackend open(CudaDriver driver, int ordinal) {
        return new CudaBackend(driver, ordinal);
    }

    private PerThread newThreadState() {
        PerThread t = new PerThread();
        threads.add(t);
        return t;
    }

    private PerThread current() {
        if (closed) {
            throw new IllegalStateException("cuda: backend is closed");
        }
        return perThread.get();
    }

    /** The backend's stream (the same for every thread; see the class comment). */
    public MemorySegment stream() {
        return current().stream;
    }

    @Override
    public String name() {
        return "cuda:" + device + " (" + deviceName + ", " + arch + ")";
    }

    /** The NVRTC target, e.g. {@code sm_90}. */
    public String arch() {
        return arch;
    }

    public CudaDriver driver() {
        return driver;
    }

    public DeviceAllocator allocator() {
        return allocator;
    }

    // ------------------------------------------------------------------ memory

    @Override
    public long allocate(long bytes) {
        DeviceAllocator.Block b = allocator.allocate(bytes, current().stream.address());
        blocks.put(b.pointer(), b);
        return b.pointer();
    }

    @Override
    public void free(long pointer) {
        DeviceAllocator.Block b = blocks.remove(pointer);
        if (b == null) {
            throw new IllegalArgumentException("cuda: free of a pointer this backend did not allocate: 0x" + Long.toHexString(pointer));
        }
        allocator.free(b, stream.address());
    }

    @Override
    public void copyToDevice(MemorySegment src, long dstPointer, long bytes) {
        PerThread t = current();
        t.staging.toDevice(src, dstPointer, bytes, t.stream);
    }

    @Override
    public void copyToHost(long srcPointer, MemorySegment dst, long bytes) {
        PerThread t = current();
        t.staging.toHost(srcPointer, dst, bytes, t.stream);
    }

    /** Sets {@code bytes} at {@code pointer} to zero, on the calling thread's stream. */
    public void zero(long pointer, long bytes) {
        driver.memsetD8Async(pointer, 0, bytes, current().stream);
    }

    @Override
    public void synchronize() {
        driver.streamSynchronize(current().stream);
    }

    /**
     * Synchronises the device and returns every cached allocator block to the driver. Makes the
     * context current first: the driver calls fail with CUDA_ERROR_INVALID_CONTEXT on a thread that
     * never used the backend.
     */
    public void emptyCache() {
        current();
        driver.contextSynchronize();
        allocator.emptyCache();
    }

    // ------------------------------------------------------------------ kernels

    KernelCache kernelCache() {
        KernelCache c = kernelCache;
        if (c == null) {
            synchronized (this) {
                if (kernelCache == null) {
                    String lib = CudaLibraries.locate(CudaLibraries.NVRTC).orElseThrow(() -> new IllegalStateException(
                            "cuda: libnvrtc not found; install the CUDA NVRTC runtime (or set -Dtessera.cuda.lib)"));
                    CudaLibraries.preloadCompanions(lib, CudaLibraries.NVRTC_BUILTINS);
                    nvrtc = Nvrtc.load(lib);
                    int[] v = nvrtc.version();
                    // one line on stderr (a logger would add a header line): the likely cause of a
                    // module load failing with CUDA_ERROR_UNSUPPORTED_PTX_VERSION further on
                    CudaLibraries.versionWarning(driver.driverVersion(), v[0], v[1]).ifPresent(System.err::println);
                    kernelCache = new KernelCache(KernelCache.defaultDirectory(), nvrtc);
                }
                c = kernelCache;
            }
        }
        return c;
    }

    /** The function {@code name} from kernel file {@code file}, compiling or loading the module once. */
    MemorySegment function(String file, String name) {
        String key = file + "/" + name;
        MemorySegment f = functions.get(key);
        if (f != null) {
            return f;
        }
        current();
        MemorySegment module = modules.computeIfAbsent(file, fl -> driver.moduleLoadData(
                kernelCache().get(fl, KernelSources.source(fl), KernelSources.OPTIONS, arch)));
        return functions.computeIfAbsent(key, k -> driver.moduleGetFunction(module, name));
    }

    /** Launches {@code file/name} on the calling thread's stream. */
    public void launch(String file, String name, LaunchConfig config, KernelArgs args) {
        MemorySegment fn = function(file, name);
        try (Arena a = Arena.ofConfined()) {
            driver.launchKernel(fn, config, current().stream, args.pack(a));
        }
    }

    Cublas cublas() {
        Cublas c = cublas;
        if (c == null) {
            synchronized (this) {
                if (cublas == null) {
                    String lib = CudaLibraries.locateWithCompanions(CudaLibraries.CUBLAS_LT, CudaLibraries.CUBLAS)
                            .orElseThrow(() -> new IllegalStateException(
                                    "cuda: libcublas not found; install cuBLAS (or set -Dtessera.cuda.lib)"));
                    cublas = Cublas.load(lib);
                }
                c = cublas;
            }
        }
        return c;
    }

    /** The calling thread's cuBLAS handle, bound to its stream. */
    MemorySegment cublasHandle() {
        PerThread t = current();
        if (t.cublasHandle == null) {
            t.cublasHandle = cublas().create();
            cublas().setStream(t.cublasHandle, t.stream);
        }
        return t.cublasHandle;
    }

    /** Event-timed execution of {@code work} on the calling thread's stream, in milliseconds. */
    public float time(Runnable work) {
        MemorySegment s = current().stream;
        MemorySegment start = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        MemorySegment end = driver.eventCreate(CudaDriver.CU_EVENT_DEFAULT);
        try {
            driver.eventRecord(start, s);
            work.run();
            driver.eventRecord(end, s);
            driver.eventSynchronize(end);
            return driver.eventElapsedMillis(start, end);
        } finally {
            driver.eventDestroy(start);
            driver.eventDestroy(end);
        }
    }

    // ------------------------------------------------------------------ named ops

    /**
     * Named ops: {@code unary.<op>} and {@code binary.<op>} (UnaryOp/BinaryOp names, lower case),
     * {@code matmul} (attribute {@code precision}: 0 F32, 1 TF32, 2 BF16), {@code softmax},
     * {@code swiglu}, {@code sum_rows}, {@code max_rows}. Each writes into {@code outputs.get(0)}.
     * The full kernel set is on {@link CudaOps}.
     */
    @Override
    public void run(String op, List<DeviceTensor> in, List<DeviceTensor> out, Map<String, Number> attributes) {
        CudaOps ops = new CudaOps(this);
        DeviceTensor o = out.get(0);
        if (op.startsWith("unary.")) {
            ops.unaryInto(dev.tessera.tensor.UnaryOp.valueOf(op.substring(6).toUpperCase(java.util.Locale.ROOT)), in.get(0), o);
        } else if (op.startsWith("binary.")) {
            ops.binaryInto(dev.tessera.tensor.BinaryOp.valueOf(op.substring(7).toUpperCase(java.util.Locale.ROOT)), in.get(0),
                    in.get(1), o);
        } else {
            switch (op) {
                case "matmul" -> ops.matmulInto(in.get(0), in.get(1), o,
                        CudaOps.Precision.values()[attributes.getOrDefault("precision", 0).intValue()]);
                case "softmax" -> ops.softmaxInto(in.get(0), in.size() > 1 ? in.get(1) : null, 0, o);
                case "swiglu" -> ops.swigluInto(in.get(0), in.get(1), o);
                case "sum_rows" -> ops.reduceRowsInto(dev.tessera.tensor.ReduceOp.SUM, in.get(0), o);
                case "max_rows" -> ops.reduceRowsInto(dev.tessera.tensor.ReduceOp.MAX, in.get(0), o);
                default -> throw new IllegalArgumentException("cuda: unknown op '" + op + "'");
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        driver.contextSetCurrent(context);
        driver.contextSynchronize();
        closed = true;
        for (PerThread t : threads) {
            if (t.cublasHandle != null) {
                cublas.destroy(t.cublasHandle);
            }
            t.staging.close();
        }
        driver.streamDestroy(stream);
        allocator.emptyCache();
        for (MemorySegment m : modules.values()) {
            driver.moduleUnload(m);
        }
        driver.primaryContextRelease(device);
    }
}
