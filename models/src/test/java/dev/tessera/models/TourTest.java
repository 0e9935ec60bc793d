package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every chapter of {@code docs/tour/} compiles and runs: its {@code java} code blocks, in order,
 * become the body of one method (with the imports the tour's README lists and a {@code check}
 * assertion), compiled by the JDK's compiler against the test class path and invoked.
 */
class TourTest {
    private static final Path TOUR = Path.of("..", "docs", "tour");
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final String IMPORTS = """
            import dev.tessera.tensor.*; import dev.tessera.autograd.*; import dev.tessera.nn.*;
            import dev.tessera.nn.attention.*; import dev.tessera.nn.position.*; import dev.tessera.nn.loss.*;
            import dev.tessera.nn.optim.*; import dev.tessera.models.*; import dev.tessera.models.generate.*; import java.util.*;
            """;

    static Stream<Path> chapters() throws Exception {
        try (var files = Files.list(TOUR)) {
            List<Path> list = files.filter(p -> p.getFileName().toString().matches("\\d\\d-.*\\.md")).sorted().toList();
            assertEquals(9, list.size(), "the tour's nine chapters");
            return list.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("chapters")
    void chapterRuns(Path chapter, @TempDir Path dir) throws Exception {
        String md = Files.readString(chapter, StandardCharsets.UTF_8);
        StringBuilder body = new StringBuilder();
        Matcher m = JAVA_BLOCK.matcher(md);
        int blocks = 0;
        while (m.find()) {
            body.append(m.group(1)).append('\n');
            blocks++;
        }
        assertTrue(blocks > 0, chapter + " has no java block");
        assertTrue(Files.readString(TOUR.resolve("README.md")).contains(IMPORTS.lines().findFirst().orElseThrow().strip()),
                "the README lists the imports the test uses");
        String source = IMPORTS + "public class Chapter {\n"
                + "    static void check(boolean ok, String what) { if (!ok) throw new AssertionError(what); }\n"
                + "    public static void run() throws Exception {\n" + body + "    }\n}\n";
        Path file = dir.resolve("Chapter.java");
        Files.writeString(file, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (var fm = javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector", "-proc:none", "-classpath",
                    System.getProperty("java.class.path"), "-d", dir.toString()));
            boolean ok = javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjects(file)).call();
            assertTrue(ok, chapter + " does not compile: " + diagnostics.getDiagnostics());
        }
        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, TourTest.class.getClassLoader())) {
            try {
                loader.loadClass("Chapter").getMethod("run").invoke(null);
            } catch (InvocationTargetException e) {
                throw new AssertionError(chapter + ": " + e.getCause(), e.getCause());
            }
        }
    }
}
