package dev.tessera.models.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** {@code loss.png}: training and validation loss against step (XChart), replaced atomically. */
public final class LossPlot {
    private LossPlot() {}

    public static void write(Path png, String title, List<Double> trainSteps, List<Double> trainLoss,
            List<Double> valSteps, List<Double> valLoss) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setMarkerSize(3);
        if (!trainSteps.isEmpty()) {
            chart.addSeries("train", trainSteps, trainLoss).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        if (!valSteps.isEmpty()) {
            chart.addSeries("validation", valSteps, valLoss).setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        try (var out = Files.newOutputStream(tmp)) { // the String overload would append ".png" to the name
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
