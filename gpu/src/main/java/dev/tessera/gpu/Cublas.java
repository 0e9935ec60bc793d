package dev.tessera.gpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;

/**
 * FFM bindings for the cuBLAS GEMMs the backend uses. cuBLAS is column-major; {@link GemmMapping}
 * turns a row-major product into the column-major call (the C^T = B^T A^T trick), and this class
 * only forwards its fields. Every status other than {@code CUBLAS_STATUS_SUCCESS} throws
 * {@link CudaException}. Alpha and beta are host pointers (the default pointer mode).
 */
public final class Cublas {
    public static final int CUBLAS_OP_N = 0;
    public static final int CUBLAS_OP_T = 1;
    public static final int CUDA_R_32F = 0;
    public static final int CUDA_R_16F = 2;
    public static final int CUDA_R_16BF = 14;
    public static final int CUBLAS_COMPUTE_32F = 68;
    public static final int CUBLAS_COMPUTE_32F_FAST_TF32 = 77;
    public static final int CUBLAS_GEMM_DEFAULT = -1;

    private final NativeFunction create, destroy, setStream, sgemm, gemmEx, gemmStridedBatchedEx, getStatusName,
            getStatusString;

    private Cublas(SymbolLookup lib) {
        create = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasCreate_v2");
        destroy = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS), "cublasDestroy_v2");
        setStream = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), "cublasSetStream_v2");
        sgemm = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), "cublasSgemm_v2");
        gemmEx = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT), "cublasGemmEx");
        gemmStridedBatchedEx = new NativeFunction(lib, FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG,
                ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT), "cublasGemmStridedBatchedEx");
        getStatusName = new NativeFunction(lib, FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusName");
        getStatusString = new NativeFunction(lib, FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusString");
    }

    public static Cublas load(String path) {
        return new Cublas(SymbolLookup.libraryLookup(path, Arena.global()));
    }

    private static String str(NativeFunction fn, int status) {
        try {
            MemorySegment s = (MemorySegment) fn.handle().invoke(status);
            return s.equals(MemorySegment.NULL) ? null : s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return null;
        }
    }

    private void checked(NativeFunction fn, Object... args) {
        int rc;
        try {
            rc = (int) fn.handle().invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc != 0) {
            String name = str(getStatusName, rc);
            throw new CudaException(CudaException.Api.CUBLAS, fn.name(), rc, name != null ? name : ErrorNames.cublasStatus(rc),
                    str(getStatusString, rc));
        }
    }

    public MemorySegment create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment h = a.allocate(ADDRESS);
            checked(create, h);
            return h.get(ADDRESS, 0);
        }
    }

    public void destroy(MemorySegment handle) {
        checked(destroy, handle);
    }

    public void setStream(MemorySegment handle, MemorySegment stream) {
        checked(setStream, handle, stream);
    }

    /** {@code C = alpha op(A) op(B) + beta C}, all F32, column-major, as cuBLAS defines it. */
    public void sgemm(MemorySegment handle, GemmMapping.Call c, long a, long b, long cPtr, float alpha, float beta) {
        try (Arena ar = Arena.ofConfined()) {
            checked(sgemm, handle, c.transa(), c.transb(), c.m(), c.n(), c.k(), ar.allocateFrom(JAVA_FLOAT, alpha), a, c.lda(), b,
                    c.ldb(), ar.allocateFrom(JAVA_FLOAT, beta), cPtr, c.ldc());
        }
    }

    /**
     * cublasGemmEx with explicit data and compute types: F32 inputs with {@link #CUBLAS_COMPUTE_32F}
     * (exact) or {@link #CUBLAS_COMPUTE_32F_FAST_TF32}, or BF16 inputs ({@link #CUDA_R_16BF}) with
     * F32 output and accumulation. Alpha and beta are F32 because the compute type is 32F.
     */
    public void gemmEx(MemorySegment handle, GemmMapping.Call c, long a, int aType, long b, int bType, long cPtr, int cType,
            int computeType, float alpha, float beta) {
        try (Arena ar = Arena.ofConfined()) {
            checked(gemmEx, handle, c.transa(), c.transb(), c.m(), c.n(), c.k(), ar.allocateFrom(JAVA_FLOAT, alpha), a, aType,
                    c.lda(), b, bType, c.ldb(), ar.allocateFrom(JAVA_FLOAT, beta), cPtr, cType, c.ldc(), computeType,
                    CUBLAS_GEMM_DEFAULT);
        }
    }

    /** The strided-batched form: {@code batch} independent GEMMs whose operands are {@code stride*} elements apart. */
    public void gemmStridedBatchedEx(MemorySegment handle, GemmMapping.Call c, long a, int aType, long strideA, long b,
            int bType, long strideB, long cPtr, int cType, long strideC, int batch, int computeType, float alpha, float beta) {
        try (Arena ar = Arena.ofConfined()) {
            checked(gemmStridedBatchedEx, handle, c.transa(), c.transb(), c.m(), c.n(), c.k(), ar.allocateFrom(JAVA_FLOAT, alpha),
                    a, aType, c.lda(), strideA, b, bType, c.ldb(), strideB, ar.allocateFrom(JAVA_FLOAT, beta), cPtr, cType,
                    c.ldc(), strideC, batch, computeType, CUBLAS_GEMM_DEFAULT);
        }
    }
}
