package dev.tessera.models.cli;

import dev.tessera.models.data.Progress;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A status line for a pass over bytes (tokenizing a corpus, counting words) on a terminal, redrawn
 * at most five times a second. Nothing is drawn before the first update, so a pass that never
 * runs (the token cache was hit) leaves no trace; off a terminal nothing is drawn at all.
 */
final class ByteProgress implements Progress, AutoCloseable {
    private static final long REDRAW_NANOS = 200_000_000L;

    private final String task;
    private final TerminalLine terminal; // null: silent
    private final LongSupplier nanoClock;
    private final long start;
    private long lastDraw;
    private boolean drawn;

    ByteProgress(String task, TerminalLine terminal, LongSupplier nanoClock) {
        this.task = task;
        this.terminal = terminal;
        this.nanoClock = nanoClock;
        this.start = nanoClock.getAsLong();
    }

    /** A status line on {@code out} when it is a terminal, otherwise a no-op. */
    static ByteProgress start(String task, PrintWriter out) {
        return new ByteProgress(task, TerminalLine.isTerminal() ? new TerminalLine(out, TerminalLine.columns()) : null, System::nanoTime);
    }

    @Override
    public void update(long done, long total) {
        if (terminal == null) {
            return;
        }
        long now = nanoClock.getAsLong();
        if (drawn && now - lastDraw < REDRAW_NANOS && done < total) {
            return;
        }
        drawn = true;
        lastDraw = now;
        terminal.draw(line(task, done, total, (now - start) / 1e9, terminal.width()));
    }

    @Override
    public void close() {
        if (terminal != null) {
            terminal.close();
        }
    }

    /** E.g. {@code tokenize  45% [====>     ]  12.3/27.0 MB  0:03 ETA 0:04}, in at most {@code width} characters. */
    static String line(String task, long done, long total, double elapsedSeconds, int width) {
        double fraction = total > 0 ? Math.min(1, (double) done / total) : 0;
        String head = String.format(Locale.ROOT, "%s %3d%%", task, (int) (fraction * 100));
        String size = String.format(Locale.ROOT, "%.1f/%.1f MB", done / 1e6, total / 1e6);
        String time = TerminalLine.duration(elapsedSeconds) + " ETA "
                + TerminalLine.duration(done > 0 ? elapsedSeconds / done * (total - done) : Double.NaN);
        return TerminalLine.fit(head, List.of(new TerminalLine.Field(size, 0), new TerminalLine.Field(time, 1)), "  ", width, fraction,
                Math.min(40, width - 45));
    }
}
