package dev.tessera.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * Hand-kept FFM bindings for the part of the CUDA driver API ({@code libcuda.so.1}) the backend
 * uses. Kept small on purpose: every binding here is one the backend calls, each wrapper checks the
 * CUresult and throws {@link CudaException} naming the call and the driver's error name and string.
 * Handles are created lazily ({@link NativeFunction}). Types: {@code CUdevice} is an int,
 * {@code CUdeviceptr} a 64-bit integer, the opaque handles ({@code CUcontext}, {@code CUmodule},
 * {@code CUfunction}, {@code CUstream}, {@code CUevent}) are addresses.
 */
public final class CudaDriver {
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int CU_STREAM_NON_BLOCKING = 1;
    public static final int CU_EVENT_DEFAULT = 0;

    private final NativeFunction cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetAttribute,
            cuDeviceGetName, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxCreate,
            cuCtxCreateV2,
            cuCtxSetCurrent, cuCtxSynchronize, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel,
            cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync,
            cuMemsetD8Async, cuMemAllocHost, cuMemFreeHost, cuStreamCreate, cuStreamSynchronize, cuStreamDestroy,
            cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuGetErrorName,
            cuGetErrorString;

    private CudaDriver(SymbolLookup lib) {
        FunctionDescriptor i_i = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        FunctionDescriptor i_a = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor i_aa = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        cuInit = new NativeFunction(lib, i_i, "cuInit");
        cuDriverGetVersion = new NativeFunction(lib, i_a, "cuDriverGetVersion");
        cuDeviceGetCount = new NativeFunction(lib, i_a, "cuDeviceGetCount");
        cuDeviceGet = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceGet");
        cuDeviceGetAttribute = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                "cuDeviceGetAttribute");
        cuDeviceGetName = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuDeviceGetName");
        cuDeviceTotalMem = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
                "cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = new NativeFunction(lib, i_i, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease");
        // CUDA 13's header maps cuCtxCreate to _v4 (a CUctxCreateParams* before the flags); drivers
        // before 12.5 have only _v2, which 13 still exports for old binaries
        cuCtxCreate = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT),
                "cuCtxCreate_v4");
        cuCtxCreateV2 = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), "cuCtxCreate_v2");
        cuCtxSetCurrent = new NativeFunction(lib, i_a, "cuCtxSetCurrent");
        cuCtxSynchronize = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT), "cuCtxSynchronize");
        cuModuleLoadData = new NativeFunction(lib, i_aa, "cuModuleLoadData");
        cuModuleUnload = new NativeFunction(lib, i_a, "cuModuleUnload");
        cuModuleGetFunction = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                "cuModuleGetFunction");
        cuLaunchKernel = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS), "cuLaunchKernel");
        cuMemAlloc = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAlloc_v2");
        cuMemFree = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_LONG), "cuMemFree_v2");
        cuMemcpyHtoD = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG), "cuMemcpyHtoD_v2");
        cuMemcpyDtoH = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), "cuMemcpyDtoH_v2");
        cuMemcpyHtoDAsync = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS),
                "cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS),
                "cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
                "cuMemcpyDtoDAsync_v2");
        // the value is an unsigned char in cuda.h
        cuMemsetD8Async = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS),
                "cuMemsetD8Async");
        cuMemAllocHost = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), "cuMemAllocHost_v2");
        cuMemFreeHost = new NativeFunction(lib, i_a, "cuMemFreeHost");
        cuStreamCreate = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamCreate");
        cuStreamSynchronize = new NativeFunction(lib, i_a, "cuStreamSynchronize");
        cuStreamDestroy = new NativeFunction(lib, i_a, "cuStreamDestroy_v2");
        cuEventCreate = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuEventCreate");
        cuEventRecord = new NativeFunction(lib, i_aa, "cuEventRecord");
        cuEventSynchronize = new NativeFunction(lib, i_a, "cuEventSynchronize");
        // CUDA 12.8 added _v2; CUDA 13 headers map the plain name to it.
        cuEventElapsedTime = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                "cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuEventDestroy = new NativeFunction(lib, i_a, "cuEventDestroy_v2");
        cuGetErrorName = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorName");
        cuGetErrorString = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), "cuGetErrorString");
    }

    /** Binds the driver functions {@code lib} finds (tests pass upcall stubs standing in for libcuda). */
    static CudaDriver of(SymbolLookup lib) {
        return new CudaDriver(lib);
    }

    /** Binds the driver library at {@code path} (kept loaded for the life of the JVM). */
    public static CudaDriver load(String path) {
        return new CudaDriver(SymbolLookup.libraryLookup(path, Arena.global()));
    }

    // ------------------------------------------------------------------ status handling

    /** Throws {@link CudaException} when {@code status != 0}; the message carries the driver's name and text. */
    void check(int status, NativeFunction fn) {
        if (status != 0) {
            throw new CudaException(CudaException.Api.DRIVER, fn.name(), status, errorName(status), errorString(status));
        }
    }

    /** The driver's name for a CUresult, or the built-in table's when the lookup is unavailable. */
    public String errorName(int status) {
        String s = describe(cuGetErrorName, status);
        return s != null ? s : ErrorNames.cuResult(status);
    }

    String errorString(int status) {
        return describe(cuGetErrorString, status);
    }

    private static String describe(NativeFunction fn, int status) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int rc = (int) fn.handle().invoke(status, out);
            MemorySegment str = out.get(ADDRESS, 0);
            if (rc != 0 || str.equals(MemorySegment.NULL)) {
                return null;
            }
            return str.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    private int call(NativeFunction fn, Object... args) {
        try {
            return (int) fn.handle().invokeWithArguments(args);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private void checked(NativeFunction fn, Object... args) {
        check(call(fn, args), fn);
    }

    // ------------------------------------------------------------------ init and devices

    public void init() {
        checked(cuInit, 0);
    }

    public int driverVersion() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            checked(cuDriverGetVersion, v);
            return v.get(JAVA_INT, 0);
        }
    }

    public int deviceCount() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            checked(cuDeviceGetCount, v);
            return v.get(JAVA_INT, 0);
        }
    }

    public int deviceGet(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            checked(cuDeviceGet, v, ordinal);
            return v.get(JAVA_INT, 0);
        }
    }

    public int deviceAttribute(int attribute, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            checked(cuDeviceGetAttribute, v, attribute, device);
            return v.get(JAVA_INT, 0);
        }
    }

    /** Compute capability as {@code major * 10 + minor}, e.g. 90 for an H100. */
    public int computeCapability(int device) {
        return deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device) * 10
                + deviceAttribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            checked(cuDeviceGetName, buf, 256, device);
            return buf.getString(0);
        }
    }

    public long deviceTotalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            checked(cuDeviceTotalMem, v, device);
            return v.get(JAVA_LONG, 0);
        }
    }

    // ------------------------------------------------------------------ contexts

    /** The device's primary context (shared with the runtime API and cuBLAS). */
    public MemorySegment primaryContextRetain(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            checked(cuDevicePrimaryCtxRetain, v, device);
            return v.get(ADDRESS, 0);
        }
    }

    public void primaryContextRelease(int device) {
        checked(cuDevicePrimaryCtxRelease, device);
    }

    /**
     * A new context: {@code cuCtxCreate_v4} with no creation parameters where the driver has it,
     * else {@code cuCtxCreate_v2}. The backend itself uses the primary context (present in every
     * version, and the one cuBLAS and the runtime API share).
     */
    public MemorySegment contextCreate(int flags, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            if (cuCtxCreate.present()) {
                checked(cuCtxCreate, v, MemorySegment.NULL, flags, device);
            } else {
                checked(cuCtxCreateV2, v, flags, device);
            }
            return v.get(ADDRESS, 0);
        }
    }

    public void contextSetCurrent(MemorySegment ctx) {
        checked(cuCtxSetCurrent, ctx);
    }

    public void contextSynchronize() {
        checked(cuCtxSynchronize);
    }

    // ------------------------------------------------------------------ modules and launches

    /** Loads a cubin or NUL-terminated PTX image. */
    public MemorySegment moduleLoadData(byte[] image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment img = a.allocate(image.length + 1L);
            MemorySegment.copy(image, 0, img, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, image.length);
            MemorySegment v = a.allocate(ADDRESS);
            checked(cuModuleLoadData, v, img);
            return v.get(ADDRESS, 0);
        }
    }

    public void moduleUnload(MemorySegment module) {
        checked(cuModuleUnload, module);
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            int rc = call(cuModuleGetFunction, v, module, a.allocateFrom(name));
            if (rc != 0) {
                throw new CudaException(CudaException.Api.DRIVER, "cuModuleGetFunction(" + name + ")", rc, errorName(rc),
                        errorString(rc));
            }
            return v.get(ADDRESS, 0);
        }
    }

    /** Launches {@code function}; {@code params} is a {@code void*[]} as built by {@link KernelArgs}. */
    public void launchKernel(MemorySegment function, LaunchConfig cfg, MemorySegment stream, MemorySegment params) {
        checked(cuLaunchKernel, function, cfg.gridX(), cfg.gridY(), cfg.gridZ(), cfg.blockX(), cfg.blockY(), cfg.blockZ(),
                cfg.sharedBytes(), stream, params, MemorySegment.NULL);
    }

    // ------------------------------------------------------------------ memory

    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_LONG);
            checked(cuMemAlloc, v, bytes);
            return v.get(JAVA_LONG, 0);
        }
    }

    public void memFree(long devicePtr) {
        checked(cuMemFree, devicePtr);
    }

    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        checked(cuMemcpyHtoD, dst, src, bytes);
    }

    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        checked(cuMemcpyDtoH, dst, src, bytes);
    }

    /** Asynchronous only when {@code src} is pinned (see {@link #memAllocHost}); otherwise the driver stages. */
    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        checked(cuMemcpyHtoDAsync, dst, src, bytes, stream);
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        checked(cuMemcpyDtoHAsync, dst, src, bytes, stream);
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        checked(cuMemcpyDtoDAsync, dst, src, bytes, stream);
    }

    /** Sets {@code bytes} bytes at {@code dst} to the low 8 bits of {@code value}. */
    public void memsetD8Async(long dst, int value, long bytes, MemorySegment stream) {
        checked(cuMemsetD8Async, dst, (byte) value, bytes, stream);
    }

    /** Page-locked host memory of {@code bytes}, as a segment of that size. */
    public MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            checked(cuMemAllocHost, v, bytes);
            return v.get(ADDRESS, 0).reinterpret(bytes);
        }
    }

    public void memFreeHost(MemorySegment host) {
        checked(cuMemFreeHost, host);
    }

    // ------------------------------------------------------------------ streams and events

    public MemorySegment streamCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            checked(cuStreamCreate, v, flags);
            return v.get(ADDRESS, 0);
        }
    }

    public void streamSynchronize(MemorySegment stream) {
        checked(cuStreamSynchronize, stream);
    }

    public void streamDestroy(MemorySegment stream) {
        checked(cuStreamDestroy, stream);
    }

    public MemorySegment eventCreate(int flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ADDRESS);
            checked(cuEventCreate, v, flags);
            return v.get(ADDRESS, 0);
        }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        checked(cuEventRecord, event, stream);
    }

    public void eventSynchronize(MemorySegment event) {
        checked(cuEventSynchronize, event);
    }

    /** Milliseconds between two recorded, completed events. */
    public float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_FLOAT);
            checked(cuEventElapsedTime, v, start, end);
            return v.get(JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(MemorySegment event) {
        checked(cuEventDestroy, event);
    }
}
