package dev.tessera.gpu;

import dev.tessera.tensor.DType;
import java.util.Locale;

/**
 * Tessera's GEMM on the device at {@code n = 4096} (or the first argument), F32 and BF16 inputs
 * with F32 accumulation, in GFLOP/s from event timing, for run-gpu-tests.sh to print beside
 * PyTorch's {@code torch.matmul} (both are cuBLAS; a gap means overhead on our side). Inputs are
 * uninitialised device buffers: the timing does not depend on the values.
 */
public final class GemmFigure {
    private GemmFigure() {}

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 4096;
        try (CudaBackend cuda = CudaBackend.open()) {
            CudaOps ops = new CudaOps(cuda);
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                CudaOps.Precision p = dt == DType.F32 ? CudaOps.Precision.F32 : CudaOps.Precision.BF16;
                try (DeviceTensor a = DeviceTensor.empty(cuda, dt, n, n); DeviceTensor b = DeviceTensor.empty(cuda, dt, n, n);
                        DeviceTensor c = DeviceTensor.empty(cuda, DType.F32, n, n)) {
                    ops.fill(c, 0f);
                    for (int i = 0; i < 3; i++) {
                        ops.matmulInto(a, b, c, p);
                    }
                    int reps = 20;
                    float ms = cuda.time(() -> {
                        for (int i = 0; i < reps; i++) {
                            ops.matmulInto(a, b, c, p);
                        }
                    });
                    double gflops = 2.0 * n * n * n * reps / (ms * 1e-3) / 1e9;
                    System.out.printf(Locale.ROOT, "tessera matmul %s n=%d: %.0f GFLOP/s (%s)%n", dt, n, gflops, cuda.name());
                }
            }
        }
    }
}
