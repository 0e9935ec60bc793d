package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E20 BiGS in the BERT encoder: it replaces attention in every layer and learns the masked-LM
 * objective; padding never reaches the real tokens; the causal decoders refuse it in one line;
 * config.json and {@code tessera train --mixer bigs} switch it on.
 */
class BigsModelTest {
    private static final MixerKind.Spec BIGS = MixerKind.Spec.of("bigs", Map.of("state", "4", "hidden", "32"));

    /** 40 masked-LM steps on counting rows (EncoderAttentionKindsTest's run) cut the held-out loss by 30%. */
    @Test
    void aShortMaskedLmRunLowersTheLoss() {
        double[] loss = EncoderAttentionKindsTest.heldOutLossBeforeAndAfter(MlpMixersModelTest.bert(BIGS));
        assertTrue(loss[1] < 0.7 * loss[0], "bigs: held-out masked-LM loss " + loss[0] + " → " + loss[1]);
    }

    /** A padded row's logits at its real positions equal those of the row alone: neither SSM direction reads the padding. */
    @Test
    void paddingDoesNotReachTheRealTokens() {
        Bert model = new Bert(MlpMixersModelTest.bert(BIGS), new Generator(6));
        model.eval();
        Tensor ids = Fixtures.ids(7, 1, 11, 20);
        long[] attention = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
        try (var noGrad = GradMode.noGrad()) {
            Tensor padded = model.forward(ids, null, Bert.paddingMask(Tensor.of(attention, 1, 11))).data(); // (1, 11, V)
            Tensor alone = model.forward(ids.narrow(1, 0, 8).contiguous(), null, AttentionMask.NONE).data(); // (1, 8, V)
            double diff = Fixtures.maxAbsDiff(padded.narrow(1, 0, 8), alone);
            assertTrue(diff < 1e-4, "bigs: padding changed the real logits by " + diff);
        }
    }

    @Test
    void decodersRefuseItAndConfigJsonRoundTrips() {
        var e = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().mixer(BIGS).build());
        assertEquals("ModelConfig: mixer bigs {state=4, hidden=32} mixes the whole sequence both ways; llama is a causal decoder (train it in bert)",
                e.getMessage());
        ModelConfig c = MlpMixersModelTest.bert(BIGS);
        assertEquals("bigs", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        var names = new Bert(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("bert.encoder.layer.1.mixer.bs4.log_a_re") && names.contains("bert.encoder.layer.0.mixer.do.weight")
                && names.stream().noneMatch(n -> n.contains("attention")), names.toString());
    }

    /** {@code tessera train --model-config bert.json --mixer bigs --mixer-option state=4 ...}: the run's config.json names the mixer. */
    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 8, ModelConfig.bert(257, 16, 1, 16, 2, 32), "--mixer", "bigs", "--mixer-option", "state=4",
                "--mixer-option", "hidden=32");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(BIGS, saved.mixer());
        assertEquals(ModelConfig.Architecture.BERT, saved.architecture());
    }
}
