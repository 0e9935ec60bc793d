package dev.tessera.models.train;

import java.io.Closeable;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * {@code metrics.csv}: one row per step (step, loss, val_loss, lr, grad_norm, tokens_per_s), val_loss
 * empty except at validation steps. Appends on resume; each row is flushed so a crash loses nothing
 * already printed.
 */
public final class MetricsLog implements Closeable {
    public static final String HEADER = "step,loss,val_loss,lr,grad_norm,tokens_per_s";
    private final Writer out;

    public MetricsLog(Path file) throws IOException {
        boolean fresh = !Files.exists(file) || Files.size(file) == 0;
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (fresh) {
            out.write(HEADER + "\n");
            out.flush();
        }
    }

    public void row(long step, double loss, double valLoss, double lr, double gradNorm, double tokensPerSecond) throws IOException {
        out.write(String.format(Locale.ROOT, "%d,%.6f,%s,%.6g,%.6f,%.1f%n", step, loss,
                Double.isNaN(valLoss) ? "" : String.format(Locale.ROOT, "%.6f", valLoss), lr, gradNorm, tokensPerSecond));
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
