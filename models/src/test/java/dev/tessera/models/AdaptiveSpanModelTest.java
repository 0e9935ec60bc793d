package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AdaptiveSpanAttention;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B25 adaptive attention span in whole models: switched on by name, its per-head {@code span} is a
 * named parameter the optimizer trains and checkpoints carry, and a short run lowers the loss.
 * (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class AdaptiveSpanModelTest {
    private static final String LLAMA_SPAN = "model.layers.0.self_attn.kernel.span";

    private static ModelConfig llama() {
        return Fixtures.llama().toBuilder().attentionKind(AttentionKind.ADAPTIVE_SPAN).build();
    }

    private static ModelConfig gpt2() {
        return Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.ADAPTIVE_SPAN).build();
    }

    @Test
    void switchedOnByNameWithAPerHeadSpan() {
        LanguageModel m = Models.create(llama(), new Generator(41));
        assertInstanceOf(AdaptiveSpanAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        Tensor span = m.stateDict().get(LLAMA_SPAN);
        assertArrayEquals(new int[] {4, 1, 1}, span.shape()); // NH = 4 (KV heads are repeated before the kernel)
        for (double z : span.toDoubleArray()) {
            assertEquals(AdaptiveSpanAttention.INITIAL_FRACTION * llama().contextLength(), z, 0);
        }
        LanguageModel g = Models.create(gpt2(), new Generator(42));
        assertInstanceOf(AdaptiveSpanAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
        assertTrue(g.stateDict().keySet().stream().anyMatch(n -> n.endsWith(".kernel.span")), g.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (ModelConfig c : new ModelConfig[] {llama(), gpt2()}) {
            assertTrue(c.toJson().contains("\"adaptive_span\""), c.toJson());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLossAndMovesTheSpan() {
        LanguageModel llama = Models.create(llama(), new Generator(43));
        double z0 = llama.stateDict().get(LLAMA_SPAN).toDoubleArray()[0];
        double[] loss = Fixtures.train(llama, 20, 1e-2, 44);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama adaptive-span loss " + loss[0] + " → " + loss[1]);
        for (double z : llama.stateDict().get(LLAMA_SPAN).toDoubleArray()) {
            assertTrue(Math.abs(z - z0) > 1e-3, "span was trained: " + z);
        }
        double[] g = Fixtures.train(Models.create(gpt2(), new Generator(45)), 20, 1e-2, 46);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 adaptive-span loss " + g[0] + " → " + g[1]);
    }

    /**
     * The L1 span penalty is part of the training loss, in the trainer: with λ = 100 and spans of 8
     * the logged loss carries layers × 100 × 8 on top of a cross-entropy near ln 256, and every
     * head's span shrinks.
     */
    @Test
    void theTrainerAddsTheSpanPenalty(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 48, "--attention", "adaptive_span", "--attention-option", "span_loss=100");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(new AdaptiveSpanAttention.Options(AdaptiveSpanAttention.RAMP, 100), saved.attentionOptions());
        double z0 = AdaptiveSpanAttention.INITIAL_FRACTION * saved.contextLength();
        double firstLoss = Double.parseDouble(Files.readAllLines(run.resolve("metrics.csv")).get(1).split(",")[1]);
        assertEquals(saved.layers() * 100 * z0 + Math.log(256), firstLoss, 1.0, "the penalty is in the logged training loss");
        for (double z : SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors")).get(LLAMA_SPAN).toDoubleArray()) {
            assertTrue(z < z0, "span " + z + " shrank below " + z0);
        }
    }

    /** {@code tessera train --attention adaptive-span}: config.json names the kind, the checkpoint holds every head's span. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 47, "--attention", "adaptive-span");
        assertEquals(AttentionKind.ADAPTIVE_SPAN, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 1, 1}, weights.get(LLAMA_SPAN).shape());
    }
}
