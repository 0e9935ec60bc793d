package dev.tessera.tensor;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The one thread pool every CPU kernel shares.
 *
 * <p>Work is always split into a number of chunks that depends only on the problem size, never on
 * the thread count; each chunk writes its own output range (or its own partial result, combined
 * afterwards in chunk order by the caller). That is what makes every result bitwise identical for
 * any thread count. The calling thread works too: with N threads the pool holds N − 1 helpers, and
 * all of them take chunks from one shared counter, so no thread idles while another has a queue.
 * The size comes from {@code -Dtessera.threads=N} (default: all cores) or {@link #setThreads(int)}.
 */
public final class Parallel {
    private static volatile ExecutorService helpers;
    private static volatile int threads;
    /** Set while a thread runs chunks: nested parallel calls then run inline instead of oversubscribing. */
    private static final ThreadLocal<boolean[]> INSIDE = ThreadLocal.withInitial(() -> new boolean[1]);
    /**
     * How long a helper waiting for work, and a caller waiting for helpers, spin before parking.
     * Waking a parked thread costs tens of microseconds on a VM, as much as a whole small kernel
     * (a decoding step makes ~50 forks); a short spin hands work over without it.
     * {@code -Dtessera.spinMicros=N}; 0 parks at once.
     */
    private static final long SPIN_NANOS = Long.getLong("tessera.spinMicros", 50) * 1000;

    static {
        int configured = Integer.getInteger("tessera.threads", Runtime.getRuntime().availableProcessors());
        setThreads(configured);
    }

    private Parallel() {}

    /** Number of threads kernels may use (the caller included). */
    public static int threads() {
        return threads;
    }

    /** Resizes the shared pool; results do not change, only speed. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("Parallel.setThreads: thread count must be >= 1, got " + n);
        }
        if (n == threads && (helpers != null || n == 1)) {
            return;
        }
        ExecutorService old = helpers;
        helpers = n == 1 ? null : new ThreadPoolExecutor(n - 1, n - 1, 0, TimeUnit.MILLISECONDS, new SpinningQueue(), r -> {
            Thread t = new Thread(r, "tessera-worker");
            t.setDaemon(true);
            return t;
        });
        threads = n;
        if (old != null) {
            old.shutdown();
        }
    }

    /**
     * Runs {@code body.accept(chunk)} for every chunk in {@code [0, chunks)}. The caller takes part;
     * with one thread, one chunk, or when already inside a parallel region everything runs inline.
     * An exception thrown by any chunk is rethrown here after all started chunks finish.
     */
    public static void forEachChunk(int chunks, IntConsumer body) {
        if (chunks <= 0) {
            return;
        }
        ExecutorService pool = helpers;
        boolean[] inside = INSIDE.get();
        if (pool == null || chunks == 1 || inside[0]) {
            for (int i = 0; i < chunks; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.currentThread();
        Runnable work = () -> {
            boolean[] flag = INSIDE.get();
            flag[0] = true;
            try {
                for (int c; (c = next.getAndIncrement()) < chunks && failure.get() == null; ) {
                    body.accept(c);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                flag[0] = false;
            }
        };
        int extra = Math.min(threads - 1, chunks - 1);
        running.set(extra);
        for (int i = 0; i < extra; i++) {
            pool.execute(() -> {
                try {
                    work.run();
                } finally {
                    if (running.decrementAndGet() == 0) {
                        LockSupport.unpark(caller);
                    }
                }
            });
        }
        work.run();
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (running.get() > 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(Parallel.class);
            }
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** A run {@code [from, to)} of items; {@code chunk} is its index among the fixed chunks. */
    @FunctionalInterface
    public interface Range {
        void run(int chunk, int from, int to);
    }

    /** Splits {@code [0, n)} into fixed chunks of {@code grain} items (never depending on the thread count) and runs them. */
    public static void forEachRange(int n, int grain, Range body) {
        forEachChunk(chunkCount(n, grain), c -> body.run(c, c * grain, (int) Math.min(n, (long) (c + 1) * grain)));
    }

    /** Number of fixed-size chunks of {@code grain} items covering {@code n} items. */
    public static int chunkCount(long n, long grain) {
        return (int) Math.max(1, (n + grain - 1) / grain);
    }

    /** The helpers' task queue: {@code take()} polls for {@link #SPIN_NANOS} before blocking. */
    private static final class SpinningQueue extends LinkedBlockingQueue<Runnable> {
        @Override
        public Runnable take() throws InterruptedException {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            do {
                Runnable task = poll();
                if (task != null) {
                    return task;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() < spinUntil);
            return super.take();
        }
    }
}
