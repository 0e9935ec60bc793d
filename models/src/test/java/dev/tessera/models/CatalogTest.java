package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.nn.Catalog;
import dev.tessera.nn.Catalog.Component;
import dev.tessera.nn.Catalog.State;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The component catalog ({@link Catalog}) against the three things that must agree with it:
 * {@code ../shared/COMPONENTS.md} (every ID listed; a committed copy of its ID lines stands in on a
 * clean clone and must equal it when it is present), the README's "Components" table (the same IDs
 * in the same order, the same state per ID, rows as {@code tessera components --markdown} prints
 * them) and the code (every class and test class named exists; done and partial components name a
 * test).
 */
class CatalogTest {
    private static final Pattern SECTION = Pattern.compile("^## ([A-IS])\\. ");
    private static final String COPY = "/components-ids.txt";
    private static final String TABLE_HEADER = "| ID | component | state |";

    /** The repository root: the nearest folder above the working directory that holds README.md and nn/. */
    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("README.md")) && Files.isDirectory(p.resolve("nn"))) {
                return p;
            }
        }
        throw new IllegalStateException("CatalogTest: no repository root (README.md and nn/) above " + Path.of("").toAbsolutePath());
    }

    /**
     * The components of a COMPONENTS.md text, one string each: "ID text". Each section "## X. …"
     * is followed by its items separated by " · " up to the next blank line; every item must start
     * with an ID of the section's letter.
     */
    static List<String> componentLines(List<String> lines) {
        List<String> out = new ArrayList<>();
        String letter = null;
        StringBuilder body = new StringBuilder();
        for (String line : lines) {
            Matcher m = SECTION.matcher(line);
            if (m.find()) {
                items(letter, body, out);
                letter = m.group(1);
            } else if (letter != null && line.isBlank() && !body.isEmpty()) {
                items(letter, body, out);
                letter = null;
            } else if (letter != null) {
                body.append(' ').append(line.strip());
            }
        }
        items(letter, body, out);
        return out;
    }

    private static void items(String letter, StringBuilder body, List<String> out) {
        if (letter != null) {
            for (String item : body.toString().split("\\s·\\s")) {
                String s = item.strip().replaceAll("\\s+", " ");
                if (!s.isEmpty()) {
                    if (!s.matches(letter + "[1-9][0-9]? .+")) {
                        throw new IllegalArgumentException("COMPONENTS.md: item of section " + letter + " does not start with its ID: " + s);
                    }
                    out.add(s);
                }
            }
        }
        body.setLength(0);
    }

    static String idOf(String componentLine) {
        return componentLine.substring(0, componentLine.indexOf(' '));
    }

    /** The committed copy's component lines (comment lines start with #). */
    static List<String> committedCopy() throws IOException {
        try (InputStream in = CatalogTest.class.getResourceAsStream(COPY)) {
            if (in == null) {
                throw new IllegalStateException("CatalogTest: resource " + COPY + " is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
    }

    /** ../shared/COMPONENTS.md next to the repository, or null on a clean clone. */
    static Path sharedComponents() {
        Path p = root().resolve("../shared/COMPONENTS.md").normalize();
        return Files.isRegularFile(p) ? p : null;
    }

    /** COMPONENTS.md's components: from the shared file where it exists, else from the committed copy. */
    static List<String> components() throws IOException {
        Path shared = sharedComponents();
        return shared != null ? componentLines(Files.readAllLines(shared)) : committedCopy();
    }

    private static List<String> catalogIds() {
        return Catalog.all().stream().map(Component::id).toList();
    }

    @Test
    void everyIdOfComponentsMdIsInTheCatalogInItsOrder() throws IOException {
        List<String> ids = components().stream().map(CatalogTest::idOf).toList();
        Set<String> missing = new LinkedHashSet<>(ids);
        missing.removeAll(catalogIds());
        Set<String> extra = new LinkedHashSet<>(catalogIds());
        extra.removeAll(ids);
        assertTrue(missing.isEmpty(), "IDs of COMPONENTS.md missing from dev.tessera.nn.Catalog: " + missing);
        assertTrue(extra.isEmpty(), "dev.tessera.nn.Catalog lists IDs that COMPONENTS.md does not: " + extra);
        assertEquals(ids, catalogIds(), "dev.tessera.nn.Catalog must list the IDs in COMPONENTS.md's order");
    }

    @Test
    void committedIdListEqualsTheSharedComponentsMd() throws IOException {
        List<String> copy = committedCopy();
        assertEquals(copy.size(), copy.stream().map(CatalogTest::idOf).distinct().count(), "models/src/test/resources" + COPY
                + " repeats an ID");
        Path shared = sharedComponents();
        if (shared == null) {
            return; // a clean clone: the copy is all there is
        }
        List<String> expected = componentLines(Files.readAllLines(shared));
        for (int i = 0; i < Math.max(expected.size(), copy.size()); i++) {
            String e = i < expected.size() ? expected.get(i) : "(nothing)";
            String c = i < copy.size() ? copy.get(i) : "(nothing)";
            assertEquals(e, c, "models/src/test/resources" + COPY + " differs from " + shared + " at component " + (i + 1)
                    + "; copy the shared file's ID lines into it");
        }
    }

    /** The README's "Components" table rows, in order. */
    static List<String> readmeRows() throws IOException {
        List<String> lines = Files.readAllLines(root().resolve("README.md"));
        int header = lines.indexOf(TABLE_HEADER);
        if (header < 0 || !lines.get(header + 1).equals("|---|---|---|")) {
            throw new IllegalStateException("README.md: no components table headed '" + TABLE_HEADER + "'");
        }
        List<String> rows = new ArrayList<>();
        for (int i = header + 2; i < lines.size() && lines.get(i).startsWith("|"); i++) {
            rows.add(lines.get(i));
        }
        return rows;
    }

    /** A README row's cells, trimmed: ID, component, state. */
    static List<String> cells(String row) {
        String inner = row.strip();
        inner = inner.substring(1, inner.endsWith("|") ? inner.length() - 1 : inner.length());
        List<String> out = new ArrayList<>();
        for (String c : inner.split("\\|", -1)) {
            out.add(c.strip());
        }
        return out;
    }

    /** The state a README cell starts with (its note follows in parentheses), or null. */
    static State stateOf(String cell) {
        for (State s : State.values()) {
            if (cell.equals(s.label()) || cell.startsWith(s.label() + " (")) {
                return s;
            }
        }
        return null;
    }

    @Test
    void readmeTableAgreesWithTheCatalog() throws IOException {
        Map<String, List<String>> readme = new LinkedHashMap<>();
        for (String row : readmeRows()) {
            List<String> c = cells(row);
            assertEquals(3, c.size(), "README.md components row must have 3 cells (ID | component | state): " + row);
            assertTrue(readme.put(c.get(0), c) == null, "README.md lists " + c.get(0) + " twice");
        }
        Set<String> missing = new LinkedHashSet<>(catalogIds());
        missing.removeAll(readme.keySet());
        Set<String> extra = new LinkedHashSet<>(readme.keySet());
        extra.removeAll(catalogIds());
        assertTrue(missing.isEmpty() && extra.isEmpty(), "README.md components table: missing " + missing + ", not in the catalog " + extra);
        List<String> wrongState = new ArrayList<>();
        for (Component c : Catalog.all()) {
            State said = stateOf(readme.get(c.id()).get(2));
            if (said != c.state()) {
                wrongState.add(c.id() + " (README: " + (said == null ? "'" + readme.get(c.id()).get(2) + "'" : said.label())
                        + ", catalog: " + c.state().label() + ")");
            }
        }
        assertTrue(wrongState.isEmpty(), "README.md and the catalog disagree on the state of " + wrongState);
        List<String> expected = Catalog.all().stream().map(Component::markdownRow).toList();
        assertEquals(expected, readmeRows(), "README.md's components table must read as `tessera components --markdown` prints it");
    }

    /** The source file of a test class, in any module's src/test/java, or null. */
    static Path testSource(String className) throws IOException {
        String relative = "src/test/java/" + className.replace('.', '/') + ".java";
        try (var modules = Files.list(root())) {
            return modules.map(m -> m.resolve(relative)).filter(Files::isRegularFile).findFirst().orElse(null);
        }
    }

    @Test
    void everyNamedClassAndTestExistsAndDoneComponentsNameATest() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Component c : Catalog.all()) {
            if (c.state() != State.NOT_STARTED && c.testClass() == null) {
                problems.add(c.id() + " is " + c.state().label() + " but names no test class");
            }
            if (c.testClass() != null && testSource(c.testClass()) == null) {
                problems.add(c.id() + ": test class " + c.testClass() + " not found in any module's src/test/java");
            }
            if (c.className() != null) {
                try {
                    Class.forName(c.className(), false, CatalogTest.class.getClassLoader());
                } catch (ClassNotFoundException e) {
                    problems.add(c.id() + ": class " + c.className() + " does not exist");
                }
            }
        }
        if (!problems.isEmpty()) {
            fail("catalog entries that do not match the code: " + problems);
        }
    }

    @Test
    void aComponentMarkedDoneOrPartialMustSayHowItIsTested() {
        var noTest = assertThrows(IllegalArgumentException.class,
                () -> new Component("B11", "RetNet", "Sun et al. 2023", "x.Retention", "--attention retnet", null, State.DONE, ""));
        assertEquals("Catalog: B11 is done but lacks its class, config switch or test class", noTest.getMessage());
        var noNote = assertThrows(IllegalArgumentException.class,
                () -> new Component("G1", "LAMB", "You et al. 2020", "x.Lamb", "--optimizer lamb", "x.LambTest", State.PARTIAL, ""));
        assertEquals("Catalog: G1 is partial; its note must say what is missing", noNote.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Component("Z1", "n", "p", null, null, null, State.NOT_STARTED, ""));
        assertEquals("partial (LAMB not started)", Catalog.get("g1").stateText());
    }
}
