package dev.tessera.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.List;

/**
 * FFM bindings for NVRTC, the runtime CUDA C++ compiler, so kernels ship as {@code .cu} sources and
 * are compiled for the device actually present (no CUDA toolkit at build time). With a real
 * architecture ({@code --gpu-architecture=sm_90}) the result is a cubin, which loads without a
 * driver JIT step; with a virtual one ({@code compute_90}) it is PTX. A failed compile throws a
 * {@link CudaException} whose message includes the compiler log.
 */
public final class Nvrtc implements KernelCompiler {
    private final NativeFunction nvrtcVersion, nvrtcCreateProgram, nvrtcCompileProgram, nvrtcGetProgramLogSize,
            nvrtcGetProgramLog, nvrtcGetPTXSize, nvrtcGetPTX, nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcDestroyProgram,
            nvrtcGetErrorString;

    private Nvrtc(SymbolLookup lib) {
        FunctionDescriptor i_aa = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        nvrtcVersion = new NativeFunction(lib, i_aa, "nvrtcVersion");
        nvrtcCreateProgram = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS), "nvrtcCreateProgram");
        nvrtcCompileProgram = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
                "nvrtcCompileProgram");
        nvrtcGetProgramLogSize = new NativeFunction(lib, i_aa, "nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = new NativeFunction(lib, i_aa, "nvrtcGetProgramLog");
        nvrtcGetPTXSize = new NativeFunction(lib, i_aa, "nvrtcGetPTXSize");
        nvrtcGetPTX = new NativeFunction(lib, i_aa, "nvrtcGetPTX");
        nvrtcGetCUBINSize = new NativeFunction(lib, i_aa, "nvrtcGetCUBINSize");
        nvrtcGetCUBIN = new NativeFunction(lib, i_aa, "nvrtcGetCUBIN");
        nvrtcDestroyProgram = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS), "nvrtcDestroyProgram");
        nvrtcGetErrorString = new NativeFunction(lib, FunctionDescriptor.of(ADDRESS, JAVA_INT), "nvrtcGetErrorString");
    }

    public static Nvrtc load(String path) {
        return new Nvrtc(SymbolLookup.libraryLookup(path, Arena.global()));
    }

    /** The name NVRTC gives a status, or the table's. */
    String errorName(int status) {
        try {
            MemorySegment s = (MemorySegment) nvrtcGetErrorString.handle().invoke(status);
            if (!s.equals(MemorySegment.NULL)) {
                return s.reinterpret(4096).getString(0);
            }
        } catch (Throwable ignored) {
            // fall back to the table
        }
        return ErrorNames.nvrtcResult(status);
    }

    private int call(NativeFunction fn, Object... args) {
        try {
            return (int) fn.handle().invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private void checked(NativeFunction fn, Object... args) {
        int rc = call(fn, args);
        if (rc != 0) {
            throw new CudaException(CudaException.Api.NVRTC, fn.name(), rc, errorName(rc), null);
        }
    }

    /** NVRTC's version as {@code {major, minor}}. */
    public int[] version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT);
            MemorySegment minor = a.allocate(JAVA_INT);
            checked(nvrtcVersion, major, minor);
            return new int[] {major.get(JAVA_INT, 0), minor.get(JAVA_INT, 0)};
        }
    }

    /** NVRTC's version as {@code major.minor}; part of the kernel cache key. */
    @Override
    public String identity() {
        int[] v = version();
        return "nvrtc-" + v[0] + "." + v[1];
    }

    /**
     * Compiles {@code source} with {@code options} plus {@code --gpu-architecture=arch}; returns the
     * cubin for {@code sm_XX} and the PTX (NUL-terminated) for {@code compute_XX}.
     */
    @Override
    public byte[] compile(String name, String source, List<String> options, String arch) {
        boolean cubin = arch.startsWith("sm_");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ADDRESS);
            checked(nvrtcCreateProgram, progOut, a.allocateFrom(source), a.allocateFrom(name), 0, MemorySegment.NULL,
                    MemorySegment.NULL);
            MemorySegment prog = progOut.get(ADDRESS, 0);
            try {
                List<String> all = new java.util.ArrayList<>(options);
                all.add("--gpu-architecture=" + arch);
                MemorySegment opts = a.allocate(ADDRESS, all.size());
                for (int i = 0; i < all.size(); i++) {
                    opts.setAtIndex(ADDRESS, i, a.allocateFrom(all.get(i)));
                }
                int rc = call(nvrtcCompileProgram, prog, all.size(), opts);
                if (rc != 0) {
                    throw new CudaException(CudaException.Api.NVRTC, "nvrtcCompileProgram(" + name + ", " + arch + ")", rc,
                            errorName(rc), "compiler log:\n" + log(a, prog));
                }
                MemorySegment size = a.allocate(JAVA_LONG);
                checked(cubin ? nvrtcGetCUBINSize : nvrtcGetPTXSize, prog, size);
                long n = size.get(JAVA_LONG, 0);
                MemorySegment out = a.allocate(Math.max(1, n));
                checked(cubin ? nvrtcGetCUBIN : nvrtcGetPTX, prog, out);
                return out.asSlice(0, n).toArray(JAVA_BYTE);
            } finally {
                call(nvrtcDestroyProgram, progOut);
            }
        }
    }

    private String log(Arena a, MemorySegment prog) {
        MemorySegment size = a.allocate(JAVA_LONG);
        if (call(nvrtcGetProgramLogSize, prog, size) != 0) {
            return "(log unavailable)";
        }
        long n = size.get(JAVA_LONG, 0);
        MemorySegment buf = a.allocate(Math.max(1, n));
        if (call(nvrtcGetProgramLog, prog, buf) != 0) {
            return "(log unavailable)";
        }
        return buf.getString(0);
    }
}
