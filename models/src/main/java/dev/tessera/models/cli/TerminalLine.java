package dev.tessera.models.cli;

import java.io.Console;
import java.io.File;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * One status line redrawn in place on an interactive terminal ({@code \r}, the text, then ANSI
 * erase-to-end-of-line), with messages printed above it; plus the formatting the progress lines
 * share. The text is fitted to the terminal width by the caller, so the line never wraps (a
 * wrapped line cannot be redrawn in place and would leave a trail of copies).
 */
final class TerminalLine implements AutoCloseable {
    private final PrintWriter out;
    private final int columns;
    private String shown;

    TerminalLine(PrintWriter out, int columns) {
        this.out = out;
        this.columns = columns;
    }

    /**
     * Whether standard input and output are an interactive terminal. {@code System.console()} alone
     * is not enough: on JDK 22 and later it is non-null even when output is redirected.
     */
    static boolean isTerminal() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** The terminal's width: {@code $COLUMNS} when set, else what {@code stty size} says of /dev/tty, else 80. */
    static int columns() {
        Integer env = positive(System.getenv("COLUMNS"));
        if (env != null) {
            return env;
        }
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(new File("/dev/tty")).redirectErrorStream(true).start();
            String answer = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip(); // "rows cols"
            if (p.waitFor(1, TimeUnit.SECONDS) && p.exitValue() == 0) {
                Integer cols = positive(answer.substring(answer.indexOf(' ') + 1));
                if (cols != null) {
                    return cols;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no stty or no /dev/tty: fall through to the default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 80;
    }

    private static Integer positive(String s) {
        try {
            int n = s == null ? 0 : Integer.parseInt(s.strip());
            return n > 0 ? n : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Columns a line may use: one less than the terminal's, because a line that fills the last
     * column leaves some terminals waiting to wrap.
     */
    int width() {
        return Math.max(1, columns - 1);
    }

    /** Replaces the status line with {@code text} (at most {@link #width()} characters). */
    void draw(String text) {
        shown = text;
        out.print("\r" + text + "\u001b[K");
        out.flush();
    }

    /** Prints {@code message} on its own line above the status line, which is then redrawn. */
    void message(String message) {
        if (shown != null) {
            out.print("\r\u001b[K");
        }
        out.println(message);
        if (shown != null) {
            out.print(shown);
        }
        out.flush();
    }

    /** Leaves the last status line on screen and moves below it. */
    @Override
    public void close() {
        if (shown != null) {
            out.println();
            out.flush();
            shown = null;
        }
    }

    // ---------------------------------------------------------------- formatting shared by the progress lines

    /** {@code 0:05}, {@code 1:23}, {@code 1:02:03}; {@code ?} when not known yet. */
    static String duration(double seconds) {
        if (!(seconds >= 0) || seconds > 1e9) {
            return "?";
        }
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** A rate with its unit: {@code 2,345 tok/s} from 100 up, {@code 1.5 steps/s} below (never {@code .5}). */
    static String rate(double perSecond, String unit) {
        if (!(perSecond >= 0) || Double.isInfinite(perSecond)) {
            return "? " + unit + "/s";
        }
        return String.format(Locale.ROOT, perSecond >= 100 ? "%,.0f %s/s" : "%.1f %s/s", perSecond, unit);
    }

    /** {@code [=====>    ]}, {@code width} characters in all, brackets included. */
    static String bar(double fraction, int width) {
        int inner = Math.max(0, width - 2);
        int full = (int) Math.floor(Math.clamp(fraction, 0, 1) * inner);
        StringBuilder b = new StringBuilder(width).append('[').append("=".repeat(full));
        if (full < inner) {
            b.append('>').append(" ".repeat(inner - full - 1));
        }
        return b.append(']').toString();
    }

    /**
     * The fields that fit in {@code width}, shown in their given order but admitted by priority (a
     * lower number is more important) with {@code sep} between them; the head is always shown
     * (cut at {@code width} if even it does not fit). A progress bar of {@code barWidth} characters
     * follows the head if it still fits (and is at least 8 wide). Callers size the bar from the
     * width alone, not from the room left, so it does not come and go as fields appear.
     */
    static String fit(String head, List<Field> fields, String sep, int width, double fraction, int barWidth) {
        boolean[] keep = new boolean[fields.size()];
        int used = head.length();
        int[] byPriority = IntStream.range(0, fields.size()).boxed().sorted(Comparator.comparingInt(i -> fields.get(i).priority()))
                .mapToInt(Integer::intValue).toArray();
        for (int i : byPriority) {
            int cost = sep.length() + fields.get(i).text().length();
            if (used + cost <= width) {
                keep[i] = true;
                used += cost;
            }
        }
        StringBuilder line = new StringBuilder(head);
        if (barWidth >= 8 && used + 1 + barWidth <= width) {
            line.append(' ').append(bar(fraction, barWidth));
        }
        for (int i = 0; i < fields.size(); i++) {
            if (keep[i]) {
                line.append(sep).append(fields.get(i).text());
            }
        }
        return line.length() <= width ? line.toString() : line.substring(0, width);
    }

    /** A piece of a status line and its importance (0 = most important). */
    record Field(String text, int priority) {}
}
