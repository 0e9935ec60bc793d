package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.cli.Tessera;
import dev.tessera.nn.attention.AttentionKind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B22 in the models module: the xcit kind is named like any other ({@code --attention xcit}), but it is
 * bidirectional only, so ModelConfig refuses it for the causal decoders with a one-line error (its
 * training run is the nn-level XcitAttentionTest#shortTrainingRunLowersTheLoss until the encoder carries it).
 */
class XcitModelTest {

    @Test
    void causalDecodersRefuseIt() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            var e = assertThrows(IllegalArgumentException.class, () -> base.toBuilder().attentionKind(AttentionKind.XCIT).build());
            assertEquals("ModelConfig: attention xcit is bidirectional only; " + base.architecture().name().toLowerCase(java.util.Locale.ROOT)
                    + " is a causal decoder", e.getMessage());
        }
        assertFalse(AttentionKind.XCIT.causal());
        assertEquals(AttentionKind.XCIT, AttentionKind.named("xcit"));
    }

    /** {@code tessera train --attention xcit} parses the name and fails with the one-line refusal. */
    @Test
    void trainFromTheCliIsAOneLineRefusal(@TempDir Path dir) throws Exception {
        Path data = Files.writeString(dir.resolve("data.txt"), "abc abc abd abd ".repeat(200));
        StringWriter err = new StringWriter();
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("train", "--attention", "xcit", "--data", data.toString(), "--runs-dir", dir.resolve("runs").toString(),
                "--cache-dir", dir.resolve("cache").toString(), "--steps", "1", "--batch-size", "1");
        List<String> lines = err.toString().lines().toList();
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.get(0).startsWith("tessera: ") && lines.get(0).endsWith("attention xcit is bidirectional only; llama is a causal decoder"),
                lines.get(0));
        assertEquals(2, rc, err.toString()); // a usage error
    }
}
