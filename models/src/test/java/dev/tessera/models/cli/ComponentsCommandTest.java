package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.Catalog;
import dev.tessera.nn.Catalog.Component;
import dev.tessera.nn.Catalog.State;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code tessera components}: every ID on one aligned line, the filters, the README table, one-line errors. */
class ComponentsCommandTest {
    static List<String> lines(String... args) {
        CliErrorsTest.Result r = run(args);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        return r.out().lines().toList();
    }

    @Test
    void listsEveryIdOnOneAlignedLine() {
        List<String> lines = lines("components");
        List<Component> all = Catalog.all();
        assertEquals(all.size(), lines.size());
        int nameColumn = lines.get(0).indexOf(all.get(0).name());
        for (int i = 0; i < all.size(); i++) {
            Component c = all.get(i);
            String line = lines.get(i);
            assertTrue(line.startsWith(c.id() + " "), line);
            assertEquals(c.state().label(), line.substring(5, nameColumn).strip(), line);
            assertEquals(nameColumn, line.indexOf(c.name()), "name column of " + line);
            assertTrue(line.contains(c.configSwitch() == null ? "  -" : "  " + c.configSwitch()), line);
        }
    }

    @Test
    void filtersByStateAndById() {
        for (State s : State.values()) {
            List<String> lines = lines("components", "--state", s == State.NOT_STARTED ? "not-started" : s.label());
            List<String> ids = new ArrayList<>();
            lines.forEach(l -> ids.add(l.substring(0, l.indexOf(' '))));
            assertEquals(Catalog.withState(s).stream().map(Component::id).toList(), ids, s.label());
        }
        List<String> b11 = lines("components", "--id", "b11");
        assertEquals(1, b11.size());
        assertTrue(b11.get(0).matches("B11 +done +RetNet retention \\(parallel, recurrent, chunkwise\\) +--attention retnet .*"), b11.get(0));
        assertEquals(List.of(), lines("components", "--id", "B11", "--state", "not-started"));
        assertTrue(lines("components", "--id", "G1").get(0).endsWith("(LAMB not started)"));
    }

    @Test
    void markdownIsTheReadmeTable() {
        List<String> expected = new ArrayList<>(List.of("| ID | component | state |", "|---|---|---|"));
        Catalog.all().forEach(c -> expected.add(c.markdownRow()));
        assertEquals(expected, lines("components", "--markdown"));
    }

    @Test
    void unknownStatesAndIdsAreOneLineErrors() {
        assertOneLineError(run("components", "--state", "finished"),
                "tessera: components: unknown --state 'finished' (expected done, partial or not-started)");
        assertOneLineError(run("components", "--id", "Z9"),
                "tessera: components: no component 'Z9' (IDs are A1–A16, B1–B59, C1–C17, D1–D11, E1–E28, F1–F10, G1–G24, H1–H12, I1–I10, S1–S4)");
    }
}
