package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ErrorMappingTest {
    @Test
    void driverCodes() {
        assertEquals("CUDA_SUCCESS", ErrorNames.cuResult(0));
        assertEquals("CUDA_ERROR_INVALID_VALUE", ErrorNames.cuResult(1));
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", ErrorNames.cuResult(2));
        assertEquals("CUDA_ERROR_NOT_INITIALIZED", ErrorNames.cuResult(3));
        assertEquals("CUDA_ERROR_NO_DEVICE", ErrorNames.cuResult(100));
        assertEquals("CUDA_ERROR_INVALID_IMAGE", ErrorNames.cuResult(200));
        assertEquals("CUDA_ERROR_NO_BINARY_FOR_GPU", ErrorNames.cuResult(209));
        assertEquals("CUDA_ERROR_INVALID_HANDLE", ErrorNames.cuResult(400));
        assertEquals("CUDA_ERROR_NOT_FOUND", ErrorNames.cuResult(500));
        assertEquals("CUDA_ERROR_ILLEGAL_ADDRESS", ErrorNames.cuResult(700));
        assertEquals("CUDA_ERROR_LAUNCH_FAILED", ErrorNames.cuResult(719));
        assertEquals("CUDA_ERROR_UNKNOWN", ErrorNames.cuResult(999));
        assertEquals("CUresult 12345", ErrorNames.cuResult(12345));
    }

    @Test
    void nvrtcCodes() {
        assertEquals("NVRTC_SUCCESS", ErrorNames.nvrtcResult(0));
        assertEquals("NVRTC_ERROR_INVALID_OPTION", ErrorNames.nvrtcResult(5));
        assertEquals("NVRTC_ERROR_COMPILATION", ErrorNames.nvrtcResult(6));
        assertEquals("NVRTC_ERROR_INTERNAL_ERROR", ErrorNames.nvrtcResult(11));
        assertEquals("nvrtcResult 99", ErrorNames.nvrtcResult(99));
    }

    @Test
    void cublasCodes() {
        assertEquals("CUBLAS_STATUS_SUCCESS", ErrorNames.cublasStatus(0));
        assertEquals("CUBLAS_STATUS_NOT_INITIALIZED", ErrorNames.cublasStatus(1));
        assertEquals("CUBLAS_STATUS_ALLOC_FAILED", ErrorNames.cublasStatus(3));
        assertEquals("CUBLAS_STATUS_INVALID_VALUE", ErrorNames.cublasStatus(7));
        assertEquals("CUBLAS_STATUS_ARCH_MISMATCH", ErrorNames.cublasStatus(8));
        assertEquals("CUBLAS_STATUS_EXECUTION_FAILED", ErrorNames.cublasStatus(13));
        assertEquals("CUBLAS_STATUS_NOT_SUPPORTED", ErrorNames.cublasStatus(15));
    }

    @Test
    void exceptionNamesCallErrorAndDetail() {
        CudaException e = new CudaException(CudaException.Api.DRIVER, "cuMemAlloc_v2", 2, ErrorNames.cuResult(2), "out of memory");
        assertEquals("cuda: cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.getMessage());
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals(2, e.status());
        assertEquals(CudaException.Api.DRIVER, e.api());

        CudaException b = new CudaException(CudaException.Api.CUBLAS, "cublasGemmEx", 7, ErrorNames.cublasStatus(7), null);
        assertEquals("cuda: cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)", b.getMessage());
    }

    @Test
    void compileFailureCarriesTheLog() {
        String log = "elementwise.cu(12): error: identifier \"foo\" is undefined\n1 error detected";
        CudaException e = new CudaException(CudaException.Api.NVRTC, "nvrtcCompileProgram(elementwise, sm_90)", 6,
                ErrorNames.nvrtcResult(6), "compiler log:\n" + log);
        assertTrue(e.getMessage().startsWith("cuda: nvrtcCompileProgram(elementwise, sm_90) failed: NVRTC_ERROR_COMPILATION (6)"));
        assertTrue(e.getMessage().contains("identifier \"foo\" is undefined"));
    }
}
