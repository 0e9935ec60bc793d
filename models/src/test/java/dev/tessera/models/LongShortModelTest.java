package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.LongShortAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B20 Long-Short attention in whole models (the causal, segment-wise form with W 16, r 1, l 8):
 * switched on by name with its projection and DualLN parameters, stored in config.json, and a short
 * run lowers the loss. (Cached decoding == full forward is covered for every kind by {@link CachedDecodingTest}.)
 */
class LongShortModelTest {
    private static ModelConfig longShort(ModelConfig base) {
        return base.toBuilder().attentionKind(AttentionKind.LONG_SHORT).build();
    }

    @Test
    void switchedOnByNameWithItsParameters() {
        LanguageModel m = Models.create(longShort(Fixtures.llama()), new Generator(61));
        var kernel = assertInstanceOf(LongShortAttention.class, ((Llama) m).blocks().get(1).attention().kernel());
        assertEquals(new LongShortAttention.Options(16, 1, 8), kernel.options());
        Map<String, Tensor> state = m.stateDict();
        assertArrayEquals(new int[] {4, 8, 1}, state.get("model.layers.0.self_attn.kernel.dproj").shape()); // NH 4, HS 8, r 1
        assertArrayEquals(new int[] {32}, state.get("model.layers.0.self_attn.kernel.dual_ln_win.weight").shape());
        assertArrayEquals(new int[] {32}, state.get("model.layers.0.self_attn.kernel.dual_ln_dproj.bias").shape());
        LanguageModel g = Models.create(longShort(Fixtures.gpt2()), new Generator(62));
        assertInstanceOf(LongShortAttention.class, ((GPT2) g).blocks().get(0).attention().kernel());
    }

    /** The DualLN'd window and the projected segments change what the model computes. */
    @Test
    void theKernelIsUsed() {
        ModelConfig base = Fixtures.llama();
        Tensor ids = Fixtures.ids(63, 2, 16, base.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = Models.create(base, new Generator(64)).forward(ids, null).data();
            Tensor ls = Models.create(longShort(base), new Generator(64)).forward(ids, null).data();
            assertTrue(Fixtures.maxAbsDiff(full, ls) > 1e-4);
        }
    }

    @Test
    void configJsonRoundTrip() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = base.toBuilder().attentionKind(AttentionKind.LONG_SHORT).attentionOptions(new LongShortAttention.Options(4, 2, 3))
                    .build();
            var tessera = c.toHuggingFace().get("tessera");
            assertEquals("long_short", tessera.get("attention_kind").asText());
            assertEquals(2, tessera.get("attention_options").get("rank").asInt());
            assertEquals(3, tessera.get("attention_options").get("segment").asInt());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    /** Decoding one token at a time through the KV caches gives the full forward's logits, with small W, l so both parts act. */
    @Test
    void cachedDecodingEqualsFull() {
        ModelConfig c = Fixtures.llama().toBuilder().attentionKind(AttentionKind.LONG_SHORT).attentionOptions(new LongShortAttention.Options(2, 2, 3))
                .build();
        LanguageModel m = Models.create(c, new Generator(68));
        m.module().eval();
        Tensor ids = Fixtures.ids(69, 1, 11, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = m.forward(ids, null).data();
            var caches = m.newCaches(1, c.contextLength());
            double worst = 0;
            for (int p = 0; p < 11; p++) {
                Tensor step = m.forward(ids.narrow(1, p, 1).contiguous(), null, caches).data();
                worst = Math.max(worst, Fixtures.maxAbsDiff(step, full.narrow(1, p, 1)));
            }
            assertTrue(worst < 2e-4, "cached logits differ by " + worst);
        }
    }

    /** Llama only: GPT-2 builds the same kernel (switchedOnByNameWithItsParameters), and the CLI run trains it too. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = Fixtures.train(Models.create(longShort(Fixtures.llama()), new Generator(65)), 20, 1e-2, 66);
        assertTrue(loss[1] < 0.7 * loss[0], "long-short loss " + loss[0] + " → " + loss[1]);
    }

    /** {@code tessera train --attention long-short} with options: config.json names the kind and options, the checkpoint holds the projection. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 67, "--attention", "long-short", "--attention-option", "rank=2", "--attention-option", "segment=4");
        ModelConfig saved = ModelConfig.fromHuggingFace(run.resolve("config.json"));
        assertEquals(AttentionKind.LONG_SHORT, saved.attentionKind());
        assertEquals(new LongShortAttention.Options(16, 2, 4), saved.attentionOptions());
        Map<String, Tensor> weights = SafeTensors.read(run.resolve("checkpoints/step-00000002/model.safetensors"));
        assertArrayEquals(new int[] {2, 8, 2}, weights.get("model.layers.0.self_attn.kernel.dproj").shape());
    }
}
