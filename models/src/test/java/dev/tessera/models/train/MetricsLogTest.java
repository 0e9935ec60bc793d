package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** metrics.csv stays one history: continuing from step k drops later rows and a torn last line, and keeps what it drops nowhere. */
class MetricsLogTest {
    @Test
    void continuingFromAStepCutsTheFileBackAndKeepsItsHistory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("metrics.csv");
        Files.writeString(file, MetricsLog.HEADER + "\n1,3.0,,0.001,1.0,10.0\n2,2.5,2.4,0.002,1.0,10.0\n3,2.0,,0.003,1.0,10.0\n"
                + "4,1.5,1.4,0.003,1.0,10.0\n5,1.2,,0.003,1.0,1"); // a crash tore the last line
        try (MetricsLog log = new MetricsLog(file, 3)) {
            assertEquals(List.of(1.0, 2.0, 3.0), log.history().trainSteps());
            assertEquals(List.of(2.0), log.history().valSteps());
            log.row(4, 1.6, 1.5, 0.003, 1.0, 10.0);
            assertEquals(List.of(2.4, 1.5), log.history().valLoss());
        }
        List<String> rows = Files.readAllLines(file);
        assertEquals(MetricsLog.HEADER, rows.get(0));
        assertEquals(List.of("1", "2", "3", "4"), rows.stream().skip(1).map(r -> r.split(",")[0]).toList());
        assertEquals("4,1.600000,1.500000,0.00300000,1.000000,10.0", rows.get(4));
        try (MetricsLog fresh = new MetricsLog(file, 0)) {
            assertEquals(List.of(), fresh.history().trainSteps());
        }
        assertEquals(List.of(MetricsLog.HEADER), Files.readAllLines(file), "starting over keeps the header only");
    }
}
