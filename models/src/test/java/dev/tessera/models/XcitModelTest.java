package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.models.cli.Tessera;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.tensor.Generator;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B22 in the models module: the xcit kind is named and stored in config.json like any other, but it
 * is bidirectional only, so the causal decoders refuse it with a one-line error (its training run is
 * the nn-level XcitAttentionTest#shortTrainingRunLowersTheLoss until the encoder carries it).
 */
class XcitModelTest {

    @Test
    void configJsonRoundTrip() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.XCIT).build();
            assertEquals("xcit", c.toHuggingFace().get("tessera").get("attention_kind").asText());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
        }
    }

    @Test
    void causalDecodersRefuseIt() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.XCIT).build();
            var e = assertThrows(IllegalArgumentException.class, () -> Models.create(c, new Generator(1)));
            assertEquals("Models.create: the xcit attention kind is bidirectional only; the causal " + base.architecture()
                    + " decoder cannot use it", e.getMessage());
        }
        assertFalse(AttentionKind.causalKinds().contains(AttentionKind.XCIT));
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
        assertEquals(List.of("tessera: Models.create: the xcit attention kind is bidirectional only; the causal LLAMA decoder "
                + "cannot use it"), err.toString().lines().toList());
        assertEquals(2, rc, err.toString()); // a usage error
    }
}
