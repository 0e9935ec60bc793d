package dev.tessera.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Time spent in {@link Gemm#sgemm} by shape, for finding where a training step's GEMM time goes:
 * {@code -Dtessera.gemm.profile=true} prints, at exit on stderr, one line per (m, n, k, layout) with
 * its calls, seconds and GFLOP/s, slowest total first. Off by default (one constant test per call).
 * Calls made inside a parallel region (per-head products) count each thread's time, so their rate
 * is one thread's.
 */
final class GemmProfile {
    static final boolean ENABLED = Boolean.getBoolean("tessera.gemm.profile");

    private record Shape(int m, int n, int k, String layout) {}

    private static final Map<Shape, LongAdder[]> TOTALS = new ConcurrentHashMap<>();

    static {
        if (ENABLED) {
            Runtime.getRuntime().addShutdownHook(new Thread(GemmProfile::print, "tessera-gemm-profile"));
        }
    }

    private GemmProfile() {}

    static void record(int m, int n, int k, int aRowStride, int aColStride, int bRowStride, int bColStride,
            long nanos) {
        Shape shape = new Shape(m, n, k, "" + layout(aRowStride, aColStride) + layout(bRowStride, bColStride));
        LongAdder[] total = TOTALS.computeIfAbsent(shape, s -> new LongAdder[] {new LongAdder(), new LongAdder()});
        total[0].increment();
        total[1].add(nanos);
    }

    private static char layout(int rowStride, int colStride) {
        return colStride == 1 ? 'N' : rowStride == 1 ? 'T' : 'S';
    }

    private static void print() {
        List<Map.Entry<Shape, LongAdder[]>> rows = new ArrayList<>(TOTALS.entrySet());
        rows.sort((x, y) -> Long.compare(y.getValue()[1].sum(), x.getValue()[1].sum()));
        double all = 0;
        for (var row : rows) {
            all += row.getValue()[1].sum() * 1e-9;
        }
        System.err.printf("gemm profile: %.3f s in %d shapes%n", all, rows.size());
        for (var row : rows) {
            Shape s = row.getKey();
            long calls = row.getValue()[0].sum();
            double seconds = row.getValue()[1].sum() * 1e-9;
            System.err.printf("gemm %dx%dx%d:%s calls=%d seconds=%.3f gflops=%.1f%n", s.m(), s.n(), s.k(), s.layout(),
                    calls, seconds, 2.0 * s.m() * s.n() * s.k() * calls / seconds * 1e-9);
        }
    }
}
