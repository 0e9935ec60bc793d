package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.VqAttention;
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
 * B10 Transformer-VQ in whole models: switched on by name with its options, its per-head codebook
 * and windowed bias are named parameters that checkpoints carry, a short run lowers the loss, and
 * the trainer adds its VQ loss. (Cached decoding == full forward is covered for every kind by
 * {@link CachedDecodingTest}.) Blocks of 4 at T 16 put most keys in the code cache.
 */
class VqModelTest {
    private static final String LLAMA_CODEBOOK = "model.layers.0.self_attn.kernel.codebook";
    private static final VqAttention.Options OPTIONS = new VqAttention.Options(8, 4, 1e-4);

    private static ModelConfig llama() {
        return Fixtures.llama().toBuilder().attentionKind(AttentionKind.VQ).attentionOptions(OPTIONS).build();
    }

    private static ModelConfig gpt2() {
        return Fixtures.gpt2().toBuilder().attentionKind(AttentionKind.VQ).attentionOptions(OPTIONS).build();
    }

    @Test
    void switchedOnByNameWithACodebookPerHead() {
        LanguageModel m = Models.create(llama(), new Generator(51));
        VqAttention kernel = assertInstanceOf(VqAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        assertEquals(OPTIONS, kernel.options());
        ModelConfig c = llama();
        assertArrayEquals(new int[] {c.heads(), 8, c.dim() / c.heads()}, m.stateDict().get(LLAMA_CODEBOOK).shape());
        assertArrayEquals(new int[] {c.heads(), 4}, m.stateDict().get("model.layers.0.self_attn.kernel.position_bias").shape());
        LanguageModel g = Models.create(gpt2(), new Generator(52));
        assertInstanceOf(VqAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
        assertTrue(g.stateDict().keySet().stream().anyMatch(n -> n.endsWith(".kernel.codebook")), g.stateDict().keySet().toString());
    }

    @Test
    void configJsonRoundTripsTheKindAndOptions() {
        for (ModelConfig c : new ModelConfig[] {llama(), gpt2()}) {
            assertTrue(c.toJson().contains("\"vq\""), c.toJson());
            assertTrue(c.toJson().contains("\"block_length\""), c.toJson());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLossAndMovesTheCodebook() {
        LanguageModel llama = Models.create(llama(), new Generator(53));
        Tensor book0 = llama.stateDict().get(LLAMA_CODEBOOK).copy();
        double[] loss = Fixtures.train(llama, 20, 1e-2, 54);
        assertTrue(loss[1] < 0.7 * loss[0], "Llama VQ loss " + loss[0] + " → " + loss[1]);
        double moved = 0;
        double[] a = book0.toDoubleArray(), b = llama.stateDict().get(LLAMA_CODEBOOK).toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            moved = Math.max(moved, Math.abs(a[i] - b[i]));
        }
        assertTrue(moved > 1e-3, "the codebook was trained: max change " + moved);
        double[] g = Fixtures.train(Models.create(gpt2(), new Generator(55)), 20, 1e-2, 56);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 VQ loss " + g[0] + " → " + g[1]);
    }

    /**
     * {@code tessera train --attention vq --attention-option ...}: config.json keeps the kind and
     * options, the checkpoint holds each layer's codebook, and with β = 10⁴ the logged loss carries
     * the commitment term on top of a cross-entropy near ln 256.
     */
    @Test
    void trainsFromTheCliWithTheVqLossInTheTrainingLoss(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 57, "--attention", "vq", "--attention-option", "codebook_size=8", "--attention-option",
                "block_length=4", "--attention-option", "commitment=10000");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(AttentionKind.VQ, saved.attentionKind());
        assertEquals(new VqAttention.Options(8, 4, 10000), saved.attentionOptions());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 8, 8}, weights.get(LLAMA_CODEBOOK).shape());
        double firstLoss = Double.parseDouble(Files.readAllLines(run.resolve("metrics.csv")).get(1).split(",")[1]);
        assertTrue(firstLoss > Math.log(256) + 10, "the commitment term is in the logged training loss: " + firstLoss);
    }
}
