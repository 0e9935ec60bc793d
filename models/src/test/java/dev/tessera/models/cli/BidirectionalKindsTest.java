package dev.tessera.models.cli;

import static dev.tessera.models.cli.CliErrorsTest.assertOneLineError;
import static dev.tessera.models.cli.CliErrorsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tessera.models.ModelConfig;
import dev.tessera.nn.attention.AttentionKind;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bidirectional-only attention kinds (B17 nystrom, ...) are named like any kind, but the decoders
 * are causal: {@code --attention nystrom} and a config.json whose {@code tessera.attention_kind} is
 * one of them fail with one line (their training runs are nn-level tests, e.g.
 * NystromAttentionTest.shortTrainingRunLowersTheLoss).
 */
class BidirectionalKindsTest {

    @Test
    void decodersRefuseThemInOneLine(@TempDir Path dir) {
        int seen = 0;
        for (AttentionKind kind : AttentionKind.values()) {
            if (kind.causal()) {
                continue;
            }
            seen++;
            String name = kind.name().toLowerCase(Locale.ROOT);
            String message = "ModelConfig: attention " + name + " is bidirectional only; llama is a causal decoder";
            assertEquals(kind, TrainCommand.parseKind(name));
            assertOneLineError(run("train", "--attention", name, "--runs-dir", dir.toString(), "--data", dir.toString()),
                    "tessera: ModelConfig: attention " + name + " is bidirectional only; "); // the preset's architecture follows
            ObjectNode json = ModelConfig.llama(64, 32, 2, 32, 4, 2, 64).toHuggingFace();
            ((ObjectNode) json.get("tessera")).put("attention_kind", name);
            assertEquals(message, assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json)).getMessage());
        }
        assertTrue(seen >= 1, "NYSTROM is bidirectional only");
    }
}
