package dev.tessera.autograd;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a training step's time goes, by op: {@code tessera bench train --profile} turns it on for
 * the timed steps and prints one row per (phase, op).
 *
 * <p>Forward: an op is charged the time since the previous op was recorded on the profiled thread
 * (or since {@link #mark}), so everything between two ops (model glue, untracked tensor work) is
 * charged to the op after it and the forward rows add up to the whole forward pass. Backward: each
 * node is charged its backward function plus the accumulation of what it returned. Other phases
 * (the optimizer, zeroing gradients) are timed by the caller through {@link #add}. Ops recorded
 * from other threads are not counted. Off by default: recording then costs one field read.
 */
public final class OpProfile {
    private static boolean enabled;
    private static Thread owner;
    private static long last;
    private static final Map<String, long[]> TOTALS = new HashMap<>();

    private OpProfile() {}

    /** Clears the totals and starts profiling ops recorded on the calling thread. */
    public static void start() {
        TOTALS.clear();
        owner = Thread.currentThread();
        enabled = true;
        last = System.nanoTime();
    }

    /** Stops profiling; the totals stay for {@link #report}. */
    public static void stop() {
        enabled = false;
        owner = null;
    }

    /** Starts the clock for the next forward op (call before each forward pass). */
    public static void mark() {
        last = System.nanoTime();
    }

    static boolean active() {
        return enabled && Thread.currentThread() == owner;
    }

    /** Charges the time since the previous forward op (or mark) to {@code op}. */
    static void forward(String op) {
        if (active()) {
            long now = System.nanoTime();
            add("forward", op, now - last);
            last = now;
        }
    }

    /** Adds {@code nanos} to the row ({@code phase}, {@code op}); ignored unless profiling on this thread. */
    public static void add(String phase, String op, long nanos) {
        if (active()) {
            long[] total = TOTALS.computeIfAbsent(phase + '\t' + op, key -> new long[2]);
            total[0]++;
            total[1] += nanos;
        }
    }

    /**
     * The rows, slowest first: phase, op, calls and milliseconds per step, share of {@code stepSeconds}
     * (the measured step, so the shares show what the rows do not cover).
     */
    public static String report(int steps, double stepSeconds) {
        List<Map.Entry<String, long[]>> rows = new ArrayList<>(TOTALS.entrySet());
        rows.sort((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]));
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-10s %-28s %8s %10s %6s%n", "phase", "op",
                "calls", "ms/step", "share"));
        double covered = 0;
        for (var row : rows) {
            String[] key = row.getKey().split("\t", 2);
            double ms = row.getValue()[1] / 1e6 / steps;
            covered += ms;
            out.append(String.format(Locale.ROOT, "%-10s %-28s %8.1f %10.2f %5.1f%%%n", key[0], key[1],
                    (double) row.getValue()[0] / steps, ms, 100 * ms / (stepSeconds * 1e3)));
        }
        out.append(String.format(Locale.ROOT, "%-10s %-28s %8s %10.2f %5.1f%%%n", "total", "(rows above)", "", covered,
                100 * covered / (stepSeconds * 1e3)));
        return out.toString();
    }
}
