package dev.tessera.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A stand-in for the part of libcuda that opening, allocating, zeroing, emptying the cache and
 * closing use: upcall stubs with cuda.h's C signatures behind a {@link SymbolLookup}, so
 * {@link CudaDriver} binds them exactly as it binds the real library. Like the driver it keeps the
 * current context per OS thread, and every call that needs one returns
 * CUDA_ERROR_INVALID_CONTEXT (201) on a thread where none was made current. Not thread-safe
 * beyond that: the tests call it from one thread at a time.
 */
final class FakeDriver {
    static final int INVALID_CONTEXT = 201;
    static final long CONTEXT = 0xC0_0000L, STREAM = 0x57_0000L;

    private static final ThreadLocal<Long> CURRENT = ThreadLocal.withInitial(() -> 0L);
    static final List<Long> frees = new ArrayList<>();
    static final List<String> memsets = new ArrayList<>();
    static long nextPointer = 0x1000_0000L, streams;

    private FakeDriver() {}

    /** A CudaDriver over fresh stubs (the recorded calls are cleared). */
    static CudaDriver driver(Arena arena) {
        frees.clear();
        memsets.clear();
        streams = 0;
        Map<String, MemorySegment> stubs = new HashMap<>();
        stub(stubs, arena, "cuInit", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        stub(stubs, arena, "cuDeviceGetCount", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        stub(stubs, arena, "cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        stub(stubs, arena, "cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        stub(stubs, arena, "cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        stub(stubs, arena, "cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        stub(stubs, arena, "cuDevicePrimaryCtxRelease_v2", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        stub(stubs, arena, "cuCtxSetCurrent", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        stub(stubs, arena, "cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        stub(stubs, arena, "cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        stub(stubs, arena, "cuStreamDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        stub(stubs, arena, "cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        stub(stubs, arena, "cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        stub(stubs, arena, "cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        SymbolLookup lookup = name -> Optional.ofNullable(stubs.get(name));
        return CudaDriver.of(lookup);
    }

    private static void stub(Map<String, MemorySegment> stubs, Arena arena, String name, FunctionDescriptor fd) {
        try {
            var mh = MethodHandles.lookup().findStatic(FakeDriver.class, name, fd.toMethodType());
            stubs.put(name, Linker.nativeLinker().upcallStub(mh, fd, arena));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("FakeDriver: no stub method " + name + fd.toMethodType(), e);
        }
    }

    private static int needsContext() {
        return CURRENT.get() == CONTEXT ? 0 : INVALID_CONTEXT;
    }

    private static MemorySegment out(MemorySegment p, long bytes) {
        return p.reinterpret(bytes);
    }

    static int cuInit(int flags) {
        return 0;
    }

    static int cuDeviceGetCount(MemorySegment n) {
        out(n, 4).set(JAVA_INT, 0, 1);
        return 0;
    }

    static int cuDeviceGet(MemorySegment dev, int ordinal) {
        out(dev, 4).set(JAVA_INT, 0, ordinal);
        return 0;
    }

    static int cuDeviceGetAttribute(MemorySegment v, int attribute, int dev) {
        out(v, 4).set(JAVA_INT, 0, attribute == CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR ? 9 : 0);
        return 0;
    }

    static int cuDeviceGetName(MemorySegment buf, int len, int dev) {
        out(buf, len).setString(0, "Fake GPU");
        return 0;
    }

    static int cuDevicePrimaryCtxRetain(MemorySegment ctx, int dev) {
        out(ctx, 8).set(ADDRESS, 0, MemorySegment.ofAddress(CONTEXT));
        return 0;
    }

    static int cuDevicePrimaryCtxRelease_v2(int dev) {
        return 0;
    }

    static int cuCtxSetCurrent(MemorySegment ctx) {
        CURRENT.set(ctx.address());
        return 0;
    }

    static int cuCtxSynchronize() {
        return needsContext();
    }

    static int cuStreamCreate(MemorySegment stream, int flags) {
        out(stream, 8).set(ADDRESS, 0, MemorySegment.ofAddress(STREAM + 0x100 * streams++)); // a new one each time
        return needsContext();
    }

    static int cuStreamDestroy_v2(MemorySegment stream) {
        return needsContext();
    }

    static int cuMemAlloc_v2(MemorySegment ptr, long bytes) {
        out(ptr, 8).set(JAVA_LONG, 0, nextPointer);
        nextPointer += bytes + 4096;
        return needsContext();
    }

    static int cuMemFree_v2(long ptr) {
        int rc = needsContext();
        if (rc == 0) {
            frees.add(ptr);
        }
        return rc;
    }

    static int cuMemsetD8Async(long ptr, byte value, long n, MemorySegment stream) {
        memsets.add(Long.toHexString(ptr) + " " + (value & 0xff) + " " + n + " " + Long.toHexString(stream.address()));
        return needsContext();
    }
}
