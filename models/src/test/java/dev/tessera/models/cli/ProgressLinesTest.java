package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The progress lines are pure functions of (status, width); the listeners draw them or log them. */
class ProgressLinesTest {
    static final TrainProgress.Status MID = new TrainProgress.Status(120, 200, 2.34117, 2.41, 2.6e-3, 1305.4, 83, 55);

    /** A clock that advances one second per reading after the first. */
    static java.util.function.LongSupplier seconds() {
        long[] t = {-1_000_000_000L};
        return () -> t[0] += 1_000_000_000L;
    }

    @ParameterizedTest
    @ValueSource(ints = {60, 80, 120})
    void trainLineFitsTheWidthAndKeepsTheImportantFields(int width) {
        String line = TrainProgress.line(MID, width);
        assertTrue(line.length() <= width, line.length() + " > " + width + ": " + line);
        assertTrue(line.startsWith("120/200  60%"), line);
        assertTrue(line.contains("loss 2.3412"), line);
        assertTrue(line.contains("1:23 ETA 0:55"), line);
        assertEquals(width >= 80, line.contains("val 2.4100") && line.contains("1,305 tok/s") && line.contains("lr 2.60e-03"), line);
        assertEquals(width >= 120, line.contains("[") && line.contains("=>"), "a bar only where there is room: " + line);
    }

    @Test
    void trainLineAtEightyColumnsIsTheCompactLine() {
        assertEquals("120/200  60%  loss 2.3412  val 2.4100  lr 2.60e-03  1,305 tok/s  1:23 ETA 0:55", TrainProgress.line(MID, 79));
    }

    @Test
    void aLongRunAtEightyColumnsDropsTheLearningRateFirst() {
        var s = new TrainProgress.Status(12000, 20000, 2.34117, 2.41, 2.6e-3, 1305.4, 3600 * 5, 3600 * 3 + 61);
        assertEquals("12000/20000  60%  loss 2.3412  val 2.4100  1,305 tok/s  5:00:00 ETA 3:01:01", TrainProgress.line(s, 79));
    }

    @Test
    void ratesDurationsAndBars() {
        assertEquals("2,345 tok/s", TerminalLine.rate(2345.2, "tok"));
        assertEquals("1.5 steps/s", TerminalLine.rate(1.5, "steps"));
        assertEquals("0.5 tok/s", TerminalLine.rate(0.5, "tok"));
        assertEquals("0:05", TerminalLine.duration(5));
        assertEquals("1:23", TerminalLine.duration(83));
        assertEquals("1:02:03", TerminalLine.duration(3723));
        assertEquals("?", TerminalLine.duration(Double.NaN));
        assertEquals("?", TerminalLine.duration(Double.POSITIVE_INFINITY));
        assertEquals("[==>  ]", TerminalLine.bar(0.5, 7));
        assertEquals("[=====]", TerminalLine.bar(1, 7));
        assertEquals("[>    ]", TerminalLine.bar(0, 7));
        assertEquals("ab", TerminalLine.fit("abcdef", List.of(new TerminalLine.Field("x", 0)), " ", 2, 0, 40));
    }

    @Test
    void logLinesCarryElapsedTimeAndEta() {
        StringWriter s = new StringWriter();
        try (var p = new TrainProgress(4, new PrintWriter(s), null, seconds())) {
            p.onStep(1, 4, 5.0, 1e-3, 1.0, 1305.4);
            p.onValidation(2, 4.5);
            p.onStep(2, 4, 4.0, 1e-3, 1.0, 1.5);
            p.onEvent("checkpoint saved");
        }
        assertEquals("""
                step 1/4 (25%) | loss 5.0000 | lr 1.00e-03 | 1,305 tok/s | grad norm 1.000 | elapsed 0:01 | ETA 0:03
                step 2/4 (50%) | loss 4.0000 | val 4.5000 | lr 1.00e-03 | 1.5 tok/s | grad norm 1.000 | elapsed 0:02 | ETA 0:02
                checkpoint saved
                """, s.toString().replace(System.lineSeparator(), "\n"));
    }

    @Test
    void onATerminalTheLineIsRedrawnInPlaceWithMessagesAbove() {
        StringWriter s = new StringWriter();
        try (var p = new TrainProgress(4, new PrintWriter(s), new TerminalLine(new PrintWriter(s), 60), seconds())) {
            p.onStep(1, 4, 5.0, 1e-3, 1.0, 1305.4);
            p.onEvent("checkpoint saved");
        }
        String[] draws = s.toString().replace(System.lineSeparator(), "\n").split("\r");
        assertEquals("", draws[0]);
        assertEquals("0/4   0%  0:00 ETA ?\u001b[K", draws[1]);
        assertEquals("1/4  25%  loss 5.0000  1,305 tok/s  0:01 ETA 0:03\u001b[K", draws[2], "no room for lr at 60 columns");
        assertEquals("\u001b[Kcheckpoint saved\n1/4  25%  loss 5.0000  1,305 tok/s  0:01 ETA 0:03\n", draws[3]);
    }

    @Test
    void byteProgressDrawsNothingUntilItsFirstUpdate() {
        StringWriter s = new StringWriter();
        new ByteProgress("tokenize", new TerminalLine(new PrintWriter(s), 80), seconds()).close();
        assertEquals("", s.toString(), "a cache hit never reports progress, so no bar");
        try (var p = new ByteProgress("tokenize", new TerminalLine(new PrintWriter(s), 80), seconds())) {
            p.update(3_000_000, 12_000_000);
        }
        assertEquals("\rtokenize  25% [========>                       ]  3.0/12.0 MB  0:01 ETA 0:03\u001b[K\n",
                s.toString().replace(System.lineSeparator(), "\n"));
    }

    @ParameterizedTest
    @ValueSource(ints = {60, 80, 120})
    void byteLineFitsTheWidth(int width) {
        String line = ByteProgress.line("tokenize", 45_000_000, 100_000_000, 3, width);
        assertTrue(line.length() <= width, line);
        assertTrue(line.startsWith("tokenize  45%"), line);
        assertTrue(line.contains("45.0/100.0 MB") && line.contains("0:03 ETA 0:04"), line);
        assertFalse(line.contains("0/0 MB"), line);
    }
}
