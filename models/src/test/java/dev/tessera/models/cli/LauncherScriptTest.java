package dev.tessera.models.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The repository's shell entry points as a new user meets them: a fresh shell whose default
 * {@code java} may be older than 25 and with no {@code JAVA_HOME}. These run bash and the Maven
 * wrapper, so they hold on Linux machines of the project's kind.
 */
class LauncherScriptTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    /** The command the README gives as the test command (the line marked "the test command"). */
    private static String readmeTestCommand() throws IOException {
        Matcher m = Pattern.compile("(?m)^(\\./\\S+(?: \\S+)*?)\\s+# the test command").matcher(Files.readString(ROOT.resolve("README.md")));
        assertTrue(m.find(), "README has no line marked '# the test command'");
        return m.group(1);
    }

    @Test
    void ciRunsExactlyTheReadmeTestCommand() throws IOException {
        String command = readmeTestCommand();
        List<String> lines = Files.readAllLines(ROOT.resolve(".ci/run")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith("set ") && !l.startsWith("cd ")).toList();
        assertEquals(List.of("exec " + command), lines, ".ci/run must run the README's test command and nothing else");
    }

    @Test
    void readmeTestCommandFindsJdk25InAFreshShell() throws Exception {
        // Maven's --version stops after printing the JVM it runs on: the command is checked without a recursive build.
        Result r = freshShell(readmeTestCommand() + " --version");
        assertEquals(0, r.status, r.output);
        assertTrue(r.output.contains("Java version: 25"), r.output);
    }

    @Test
    void launcherDropsOnlyTheJvmIncubatorWarning() throws Exception {
        String filter = extractFunction("drop_incubator_warning");
        Result dropped = freshShell(filter + "; printf 'WARNING: Using incubator modules: jdk.incubator.vector\\ntessera: bad\\nWARNING: Using incubator modules: x\\n'"
                + " | drop_incubator_warning");
        assertEquals("tessera: bad\nWARNING: Using incubator modules: x\n", dropped.output, "only the first line, when it is the JVM's, is dropped");
        Result kept = freshShell(filter + "; printf 'first\\nno newline at the end' | drop_incubator_warning");
        assertEquals("first\nno newline at the end", kept.output);
    }

    private static String extractFunction(String name) throws IOException {
        String script = Files.readString(ROOT.resolve("tessera"));
        int start = script.indexOf(name + "() {");
        int end = script.indexOf("\n}\n", start);
        assertTrue(start >= 0 && end > start, "tessera defines " + name);
        return script.substring(start, end + 2);
    }

    private record Result(int status, String output) {}

    private static Result freshShell(String command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", command).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("HOME", System.getProperty("user.home"));
        pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + command);
        return new Result(p.exitValue(), out);
    }
}
