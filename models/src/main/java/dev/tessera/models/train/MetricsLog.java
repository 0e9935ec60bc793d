package dev.tessera.models.train;

import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code metrics.csv}: one row per step (step, loss, val_loss, lr, grad_norm, tokens_per_s), val_loss
 * empty except at validation steps; each row is flushed so a crash loses nothing already printed.
 *
 * <p>The file is one history of the run, one row per step. Opening it to continue from step k
 * (a resume, or a spike rollback to the checkpoint of step k) first cuts it back to the header and
 * rows 1 … k, dropping the rows of steps that are about to be trained again and any torn last line
 * a crash left; the cut is atomic (a new file is written, fsynced and renamed over the old one).
 */
public final class MetricsLog implements Closeable {
    public static final String HEADER = "step,loss,val_loss,lr,grad_norm,tokens_per_s";

    /** The rows kept, as the loss plot needs them. */
    public record History(List<Double> trainSteps, List<Double> trainLoss, List<Double> valSteps, List<Double> valLoss) {
        static History empty() {
            return new History(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        void add(long step, double loss, double val) {
            trainSteps.add((double) step);
            trainLoss.add(loss);
            if (!Double.isNaN(val)) {
                valSteps.add((double) step);
                valLoss.add(val);
            }
        }
    }

    private final Writer out;
    private final History history;

    /** Opens {@code file} to append the steps after {@code keepThrough}, cutting off any rows beyond it first. */
    public MetricsLog(Path file, long keepThrough) throws IOException {
        this.history = History.empty();
        List<String> kept = new ArrayList<>();
        boolean changed = false;
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            changed = lines.isEmpty() || !lines.get(0).equals(HEADER);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                if (keep(line, keepThrough)) {
                    kept.add(line);
                } else {
                    changed = true;
                }
            }
            if (!changed && Files.size(file) > 0 && !Files.readString(file).endsWith("\n")) {
                changed = true;
            }
        }
        if (!Files.exists(file) || changed) {
            rewrite(file, kept);
        }
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** Whether a row is well formed and of a step {@code <= keepThrough}; records it in the history if so. */
    private boolean keep(String line, long keepThrough) {
        String[] f = line.split(",", -1);
        if (f.length != 6) {
            return false;
        }
        try {
            long step = Long.parseLong(f[0]);
            double loss = Double.parseDouble(f[1]);
            double val = f[2].isEmpty() ? Double.NaN : Double.parseDouble(f[2]);
            for (int i = 3; i < 6; i++) {
                Double.parseDouble(f[i]);
            }
            if (step < 1 || step > keepThrough || (!history.trainSteps().isEmpty()
                    && step <= history.trainSteps().get(history.trainSteps().size() - 1))) {
                return false;
            }
            history.add(step, loss, val);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static void rewrite(Path file, List<String> rows) throws IOException {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        rows.forEach(r -> text.append(r).append('\n'));
        AtomicFile.write(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** The rows kept when the file was opened, then every row written since: the whole run so far. */
    public History history() {
        return history;
    }

    public void row(long step, double loss, double valLoss, double lr, double gradNorm, double tokensPerSecond) throws IOException {
        out.write(String.format(Locale.ROOT, "%d,%.6f,%s,%.6g,%.6f,%.1f%n", step, loss,
                Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, "%.6f", valLoss), lr, gradNorm, tokensPerSecond));
        out.flush();
        history.add(step, loss, valLoss);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
