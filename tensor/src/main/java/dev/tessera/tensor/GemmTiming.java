package dev.tessera.tensor;

import java.util.SplittableRandom;

/**
 * Quick GEMM timing for tuning and for {@code tessera bench gemm}: square n x n x n products,
 * warmed up, best of several repetitions, reported in GFLOP/s ({@code 2 n^3 / seconds / 1e9}).
 *
 * <p>{@code java --add-modules jdk.incubator.vector -cp tensor/target/classes
 * dev.tessera.tensor.GemmTiming [n=1024,2048] [threads=1,2] [layouts=NN,NT,TN] [dtype=f32]}, or
 * {@code ... GemmTiming shapes=2048x768x256:NT,256x768x2048:TN threads=1} for m x n x k products;
 * {@code calls=200} reports percentiles of that many single calls instead of the best round.
 */
public final class GemmTiming {
    private GemmTiming() {}

    /** Best GFLOP/s of an NN product; dtype is "f32", "f64", "bf16" or "f16". */
    public static double gflops(int n, int threads, String dtype) {
        return gflops(n, threads, dtype, "NN");
    }

    /**
     * Best GFLOP/s; layout is "NN", "NT", "TN" or "TT" (T: the operand is the transposed view of a
     * row-major array, passed by swapped strides).
     */
    public static double gflops(int n, int threads, String dtype, String layout) {
        if (threads < 1) {
            throw new IllegalArgumentException("GemmTiming.gflops: need threads >= 1, got " + threads);
        }
        return best(square(n, dtype, layout), threads);
    }

    /** One timed operation and the floating-point operations it does. */
    private record Product(Runnable op, double flops) {}

    private static Product square(int n, String dtype, String layout) {
        if (n < 1) {
            throw new IllegalArgumentException("GemmTiming.gflops: need n >= 1, got n=" + n);
        }
        boolean ta = layout.charAt(0) == 'T';
        boolean tb = layout.charAt(1) == 'T';
        int ars = ta ? 1 : n;
        int acs = ta ? n : 1;
        int brs = tb ? 1 : n;
        int bcs = tb ? n : 1;
        SplittableRandom rnd = new SplittableRandom(42);
        int size = n * n;
        Runnable op;
        switch (dtype) {
            case "f32" -> {
                float[] a = new float[size];
                float[] b = new float[size];
                float[] c = new float[size];
                for (int i = 0; i < size; i++) {
                    a[i] = (float) rnd.nextDouble(-1, 1);
                    b[i] = (float) rnd.nextDouble(-1, 1);
                }
                op = () -> Gemm.sgemm(n, n, n, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, false);
            }
            case "f64" -> {
                double[] a = new double[size];
                double[] b = new double[size];
                double[] c = new double[size];
                for (int i = 0; i < size; i++) {
                    a[i] = rnd.nextDouble(-1, 1);
                    b[i] = rnd.nextDouble(-1, 1);
                }
                op = () -> Gemm.dgemm(n, n, n, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, false);
            }
            case "bf16", "f16" -> {
                boolean bf16 = dtype.equals("bf16");
                short[] a = new short[size];
                short[] b = new short[size];
                float[] c = new float[size];
                for (int i = 0; i < size; i++) {
                    a[i] = toHalf(bf16, (float) rnd.nextDouble(-1, 1));
                    b[i] = toHalf(bf16, (float) rnd.nextDouble(-1, 1));
                }
                op = () -> Gemm.hgemm(bf16, n, n, n, a, 0, ars, acs, b, 0, brs, bcs, c, 0, n, false);
            }
            default -> throw new IllegalArgumentException("GemmTiming.gflops: unknown dtype " + dtype
                    + " (expected f32, f64, bf16 or f16)");
        }
        return new Product(op, 2.0 * n * n * n);
    }

    /**
     * Best GFLOP/s of one f32 product C (m x n) = A (m x k) · B (k x n) in {@code layout} (as for
     * square products): the shapes a training step makes, e.g. 2048x768x256 for a Linear layer's
     * forward on B·T = 2048 rows.
     */
    public static double gflops(int m, int n, int k, int threads, String layout) {
        if (threads < 1) {
            throw new IllegalArgumentException("GemmTiming.gflops: need threads >= 1, got " + threads);
        }
        return best(shaped(m, n, k, layout), threads);
    }

    private static Product shaped(int m, int n, int k, String layout) {
        if (m < 1 || n < 1 || k < 1 || !layout.matches("[NT][NT]")) {
            throw new IllegalArgumentException("GemmTiming.gflops: need m, n, k >= 1 and layout NN|NT|TN|TT, got " + m + "x" + n + "x" + k
                    + " layout=" + layout);
        }
        boolean ta = layout.charAt(0) == 'T';
        boolean tb = layout.charAt(1) == 'T';
        SplittableRandom rnd = new SplittableRandom(42);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rnd.nextDouble(-1, 1);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) rnd.nextDouble(-1, 1);
        }
        Runnable op = () -> Gemm.sgemm(m, n, k, a, 0, ta ? 1 : k, ta ? m : 1, b, 0, tb ? 1 : n, tb ? k : 1, c, 0, n, false);
        return new Product(op, 2.0 * m * n * k);
    }

    private static void warmUp(Runnable op) {
        // enough calls for C2 to compile the kernels
        long warmEnd = System.nanoTime() + 1_500_000_000L;
        int warm = 0;
        while (warm < 3 || (System.nanoTime() < warmEnd && warm < 200)) {
            op.run();
            warm++;
        }
    }

    private static double best(Product product, int threads) {
        Runnable op = product.op();
        double flops = product.flops();
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            int reps = (int) Math.max(1, Math.min(50, 1.5e9 / flops));
            warmUp(op);
            // best of at least 7 rounds and about 3 s: the minimum filters out time lost to other load
            double best = Double.MAX_VALUE;
            long measureEnd = System.nanoTime() + 3_000_000_000L;
            for (int round = 0; round < 7 || (System.nanoTime() < measureEnd && round < 500); round++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    op.run();
                }
                best = Math.min(best, (System.nanoTime() - t0) / 1e9 / reps);
            }
            return flops / best / 1e9;
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /**
     * GFLOP/s of {@code calls} single products after the warm-up: best, 75th, 50th and 25th
     * percentile. On a shared VM the best hides slow phases (the same call runs at 80 and then at
     * 50 GFLOP/s for a second at a time); the median is what a training step sees.
     */
    private static double[] perCall(Product product, int threads, int calls) {
        int saved = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            warmUp(product.op());
            double[] rates = new double[calls];
            for (int i = 0; i < calls; i++) {
                long t0 = System.nanoTime();
                product.op().run();
                rates[i] = product.flops() / (System.nanoTime() - t0);
            }
            java.util.Arrays.sort(rates);
            return new double[] {rates[calls - 1], rates[calls * 3 / 4], rates[calls / 2], rates[calls / 4]};
        } finally {
            Parallel.setThreads(saved);
        }
    }

    private static String report(Product product, int threads, int calls) {
        if (calls == 0) {
            return String.format("gflops=%.1f", best(product, threads));
        }
        double[] q = perCall(product, threads, calls);
        return String.format("calls=%d best=%.1f p75=%.1f p50=%.1f p25=%.1f", calls, q[0], q[1], q[2], q[3]);
    }

    private static short toHalf(boolean bf16, float f) {
        return bf16 ? (short) (Float.floatToRawIntBits(f) >>> 16) : Float.floatToFloat16(f);
    }

    public static void main(String[] args) {
        String ns = "1024,2048";
        String ts = "1,2";
        String ls = "NN,NT,TN";
        String dtype = "f32";
        String shapes = null;
        int calls = 0;
        for (String arg : args) {
            String[] kv = arg.split("=", 2);
            switch (kv[0]) {
                case "n" -> ns = kv[1];
                case "threads" -> ts = kv[1];
                case "layouts" -> ls = kv[1];
                case "dtype" -> dtype = kv[1];
                case "shapes" -> shapes = kv[1];
                case "calls" -> calls = Integer.parseInt(kv[1]);
                default -> throw new IllegalArgumentException("GemmTiming: unknown argument " + arg);
            }
        }
        if (shapes != null) {
            for (String shape : shapes.split(",")) {
                String[] dims = shape.split("[x:]");
                for (String t : ts.split(",")) {
                    Product p = shaped(Integer.parseInt(dims[0]), Integer.parseInt(dims[1]), Integer.parseInt(dims[2]),
                            dims.length > 3 ? dims[3] : "NN");
                    System.out.printf("tessera f32 threads=%s shape=%s %s%n", t, shape, report(p, Integer.parseInt(t), calls));
                }
            }
            return;
        }
        for (String n : ns.split(",")) {
            for (String t : ts.split(",")) {
                for (String l : ls.split(",")) {
                    Product p = square(Integer.parseInt(n), dtype, l);
                    System.out.printf("tessera %s threads=%s n=%s layout=%s %s%n", dtype, t, n, l, report(p, Integer.parseInt(t), calls));
                }
            }
        }
    }
}
