package dev.tessera.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The one thread pool every CPU kernel shares.
 *
 * <p>Work is always split into a number of chunks that depends only on the problem size, never on
 * the thread count; each chunk writes its own output range (or its own partial result, combined
 * afterwards in chunk order by the caller). That is what makes every result bitwise identical for
 * any thread count. The size comes from {@code -Dtessera.threads=N} (default: all cores) or
 * {@link #setThreads(int)}.
 */
public final class Parallel {
    private static volatile ForkJoinPool pool;
    private static volatile int threads;

    static {
        int configured = Integer.getInteger("tessera.threads", Runtime.getRuntime().availableProcessors());
        setThreads(configured);
    }

    private Parallel() {}

    /** Number of worker threads kernels may use. */
    public static int threads() {
        return threads;
    }

    /** Resizes the shared pool; results do not change, only speed. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("Parallel.setThreads: thread count must be >= 1, got " + n);
        }
        if (n == threads && pool != null) {
            return;
        }
        ForkJoinPool old = pool;
        pool = n == 1 ? null : new ForkJoinPool(n);
        threads = n;
        if (old != null) {
            old.shutdown();
        }
    }

    /**
     * Runs {@code body.accept(chunk)} for every chunk in {@code [0, chunks)}, spread over the pool.
     * The calling thread takes part; with one thread or one chunk everything runs inline.
     */
    public static void forEachChunk(int chunks, IntConsumer body) {
        ForkJoinPool p = pool;
        if (chunks <= 0) {
            return;
        }
        if (p == null || chunks == 1 || java.util.concurrent.ForkJoinTask.getPool() == p) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        p.invoke(new ChunkRange(body, 0, chunks));
    }

    /** Number of fixed-size chunks of {@code grain} items covering {@code n} items. */
    public static int chunkCount(long n, long grain) {
        return (int) Math.max(1, (n + grain - 1) / grain);
    }

    private static final class ChunkRange extends RecursiveAction {
        private final IntConsumer body;
        private final int from;
        private final int to;

        ChunkRange(IntConsumer body, int from, int to) {
            this.body = body;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new ChunkRange(body, from, mid), new ChunkRange(body, mid, to));
        }
    }
}
