package dev.tessera.tensor;

/** Quick GEMM timing for {@code tessera bench gemm} and the peer-comparison script (JMH does the careful runs). */
public final class GemmTiming {
    private GemmTiming() {}

    /**
     * Best GFLOP/s of several timed repetitions of C = A·B with n×n operands after warm-up.
     * {@code layout} is two letters, N or T for A and B (T reads the operand transposed in place).
     */
    public static double gflops(int n, int threads, String dtype, String layout) {
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            DType dt = switch (dtype) {
                case "f32" -> DType.F32;
                case "f64" -> DType.F64;
                case "bf16" -> DType.BF16;
                case "f16" -> DType.F16;
                default -> throw new IllegalArgumentException("gemm timing: unknown dtype " + dtype);
            };
            Generator g = new Generator(1);
            Tensor a = Tensor.rand(g, dt, n, n);
            Tensor b = Tensor.rand(g, dt, n, n);
            Tensor left = layout.charAt(0) == 'T' ? a.mT() : a;
            Tensor right = layout.charAt(1) == 'T' ? b.mT() : b;
            double flops = 2.0 * n * n * n;
            int reps = (int) Math.max(3, Math.min(200, 4e9 / flops));
            long deadline = System.nanoTime() + 1_000_000_000L;
            do { // warm-up: let C2 compile the kernels
                left.matmul(right);
            } while (System.nanoTime() < deadline);
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long start = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    left.matmul(right);
                }
                best = Math.min(best, (System.nanoTime() - start) / 1e9 / reps);
            }
            return flops / best / 1e9;
        } finally {
            Parallel.setThreads(saved);
        }
    }
}
