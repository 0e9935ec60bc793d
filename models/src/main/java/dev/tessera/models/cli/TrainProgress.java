package dev.tessera.models.cli;

import dev.tessera.models.train.Trainer;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Training progress. On a terminal: one status line redrawn in place after every step, fitted to
 * the width (the least important fields drop out first, a bar appears only when there is room).
 * Otherwise (a file, a pipe, CI): a log line every 1% of the steps and at the last, with
 * everything the status line has plus the gradient norm. Both carry elapsed time and an ETA from
 * the mean step time of this session (so a resumed run's ETA is not skewed by the steps it skipped).
 */
final class TrainProgress implements Trainer.Listener, AutoCloseable {
    /** What a progress line shows; NaN where not known yet (no step, no validation). */
    record Status(long step, long total, double loss, double valLoss, double lr, double tokensPerSecond, double elapsedSeconds,
            double etaSeconds) {}

    private final PrintWriter out;
    private final TerminalLine terminal; // null: log lines
    private final long every;
    private final LongSupplier nanoClock;
    private final long start;
    private long firstStep = -1;
    private double lastVal = Double.NaN;

    TrainProgress(long steps, PrintWriter out, TerminalLine terminal, LongSupplier nanoClock) {
        this.out = out;
        this.terminal = terminal;
        this.every = Math.max(1, steps / 100);
        this.nanoClock = nanoClock;
        this.start = nanoClock.getAsLong();
        if (terminal != null) {
            terminal.draw(line(new Status(0, steps, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, Double.NaN), terminal.width()));
        }
    }

    /** A status line on a terminal ({@link TerminalLine#isTerminal()}), log lines otherwise. */
    static TrainProgress create(long steps, PrintWriter out) {
        return new TrainProgress(steps, out, TerminalLine.isTerminal() ? new TerminalLine(out, TerminalLine.columns()) : null,
                System::nanoTime);
    }

    @Override
    public void onStep(long step, long total, double loss, double lr, double gradNorm, double tokensPerSecond) {
        double elapsed = (nanoClock.getAsLong() - start) / 1e9;
        if (firstStep < 0) {
            firstStep = step;
        }
        double eta = elapsed / (step - firstStep + 1) * (total - step);
        Status s = new Status(step, total, loss, lastVal, lr, tokensPerSecond, elapsed, eta);
        if (terminal != null) {
            terminal.draw(line(s, terminal.width()));
        } else if (step % every == 0 || step == total) {
            out.println(logLine(s, gradNorm));
            out.flush();
        }
    }

    @Override
    public void onValidation(long step, double valLoss) {
        lastVal = valLoss;
    }

    @Override
    public void onEvent(String message) {
        if (terminal != null) {
            terminal.message(message);
        } else {
            out.println(message);
            out.flush();
        }
    }

    @Override
    public void close() {
        if (terminal != null) {
            terminal.close();
        }
    }

    /**
     * The terminal status line in at most {@code width} characters, e.g. at 80 columns
     * {@code 120/200  60%  loss 2.3412  val 2.4100  lr 2.60e-03  1,305 tok/s  1:23 ETA 0:55}.
     * The step count and percentage always show; then, by importance, loss, time, validation
     * loss, speed and learning rate; a bar from about 95 columns on.
     */
    static String line(Status s, int width) {
        int digits = Long.toString(s.total()).length();
        String head = String.format(Locale.ROOT, "%" + digits + "d/%d %3d%%", s.step(), s.total(), percent(s));
        List<TerminalLine.Field> fields = new ArrayList<>();
        if (!Double.isNaN(s.loss())) {
            fields.add(new TerminalLine.Field(String.format(Locale.ROOT, "loss %.4f", s.loss()), 0));
        }
        if (!Double.isNaN(s.valLoss())) {
            fields.add(new TerminalLine.Field(String.format(Locale.ROOT, "val %.4f", s.valLoss()), 2));
        }
        if (!Double.isNaN(s.lr())) {
            fields.add(new TerminalLine.Field(String.format(Locale.ROOT, "lr %.2e", s.lr()), 4));
        }
        if (!Double.isNaN(s.tokensPerSecond())) {
            fields.add(new TerminalLine.Field(TerminalLine.rate(s.tokensPerSecond(), "tok"), 3));
        }
        fields.add(new TerminalLine.Field(TerminalLine.duration(s.elapsedSeconds()) + " ETA " + TerminalLine.duration(s.etaSeconds()), 1));
        return TerminalLine.fit(head, fields, "  ", width, (double) s.step() / s.total(), Math.min(40, width - 85));
    }

    /** A log line, for output that is not a terminal: every field, the gradient norm, elapsed time and ETA. */
    static String logLine(Status s, double gradNorm) {
        return String.format(Locale.ROOT, "step %d/%d (%d%%) | loss %.4f%s | lr %.2e | %s | grad norm %.3f | elapsed %s | ETA %s", s.step(),
                s.total(), percent(s), s.loss(), Double.isNaN(s.valLoss()) ? "" : String.format(Locale.ROOT, " | val %.4f", s.valLoss()),
                s.lr(), TerminalLine.rate(s.tokensPerSecond(), "tok"), gradNorm, TerminalLine.duration(s.elapsedSeconds()),
                TerminalLine.duration(s.etaSeconds()));
    }

    private static long percent(Status s) {
        return s.step() * 100 / s.total();
    }
}
