package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.PerceiverAttention;
import dev.tessera.nn.block.Hourglass;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E12 a whole RWKV-4 stack: the time mix in place of attention ({@code --mixer rwkv}) and the channel mix in place of the FFN
 * ({@code --ffn rwkv}), whose token shift keeps the previous token's input in a per-layer feed-forward state of the layer's cache.
 */
class RwkvStackModelTest {

    private static ModelConfig rwkv(ModelConfig base) {
        return base.toBuilder().mixer(MixerKind.Spec.of("rwkv", Map.of())).ffnKind(FeedForwardKinds.parse("rwkv")).build();
    }

    /** Full forward == token by token == chunks of 3 and 5, each from fresh caches; the channel mix holds only (B, 1, C). */
    @Test
    void fullForwardEqualsTokenByTokenAndChunkedDecoding() {
        ModelConfig attention = Fixtures.llama().toBuilder().ffnKind(FeedForwardKinds.parse("rwkv")).build();
        for (ModelConfig c : List.of(rwkv(Fixtures.llama()), rwkv(Fixtures.gpt2()), attention)) {
            LanguageModel m = Models.create(c, new Generator(81));
            m.module().eval();
            int t = 13;
            Tensor ids = Fixtures.ids(82, 2, t, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor full = m.forward(ids, null).data(); // (B, T, V)
                for (int[] chunks : new int[][] {{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {3, 3, 3, 3, 1}, {5, 1, 5, 2}}) {
                    List<KvCache> caches = m.newCaches(2, c.contextLength());
                    int p = 0;
                    double worst = 0;
                    for (int n : chunks) {
                        worst = Math.max(worst, Fixtures.maxAbsDiff(m.forward(ids.narrow(1, p, n).contiguous(), null, caches).data(),
                                full.narrow(1, p, n)));
                        p += n;
                        for (KvCache cache : caches) {
                            assertEquals(p, cache.length());
                            Tensor[] held = ((MixerState) cache.feedForwardState(MixerState::new)).tensors();
                            assertEquals(1, held.length, "the channel mix keeps only the last input");
                            assertArrayEquals(new int[] {2, 1, c.dim()}, held[0].shape(), "O(1): (B, 1, C) whatever the position");
                        }
                    }
                    assertTrue(worst < 1e-4, c.architecture() + " " + java.util.Arrays.toString(chunks) + ": decoded logits differ by " + worst);
                }
            }
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(rwkv(Fixtures.llama()), new Generator(83));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
        assertEquals(30, new TextGenerator(m).generate(prompt, 30, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens().length,
                "past the context both states are reset and refilled");
    }

    /** A packed row's second document gives the logits of that document alone: neither token shift reaches across the boundary. */
    @Test
    void packedDocumentsRestartBothTokenShifts() {
        ModelConfig c = rwkv(Fixtures.llama());
        LanguageModel m = Models.create(c, new Generator(84));
        Tensor ids = Fixtures.ids(85, 1, 12, c.vocabSize());
        long[] docs = new long[12];
        java.util.Arrays.fill(docs, 5, 12, 1); // a second document from position 5
        try (var s = GradMode.noGrad()) {
            Tensor packed = m.forward(ids, new AttentionMask(true, Tensor.of(docs, 1, 12), 0)).data(); // (1, 12, V)
            Tensor alone = m.forward(ids.narrow(1, 5, 7).contiguous(), null).data(); // (1, 7, V)
            assertTrue(Fixtures.maxAbsDiff(packed.narrow(1, 5, 7), alone) < 1e-5, "the second document sees the first");
            assertTrue(Fixtures.maxAbsDiff(packed.narrow(1, 0, 5), m.forward(ids.narrow(1, 0, 5).contiguous(), null).data()) < 1e-5);
            assertTrue(Fixtures.maxAbsDiff(m.forward(ids, null).data().narrow(1, 5, 7), alone) > 1e-3, "unpacked, it does see it");
        }
        // the channel mix alone (attention restarts on its own): without its restart the second document would differ
        ModelConfig ffnOnly = Fixtures.llama().toBuilder().ffnKind(FeedForwardKinds.parse("rwkv")).positional(ModelConfig.Positional.NONE).build();
        LanguageModel f = Models.create(ffnOnly, new Generator(86));
        try (var s = GradMode.noGrad()) {
            Tensor packed = f.forward(ids, new AttentionMask(true, Tensor.of(docs, 1, 12), 0)).data();
            assertTrue(Fixtures.maxAbsDiff(packed.narrow(1, 5, 7), f.forward(ids.narrow(1, 5, 7).contiguous(), null).data()) < 1e-5);
        }
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(rwkv(Fixtures.llama()), new Generator(87));
        double[] loss = Fixtures.train(m, 20, 1e-2, 88);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripNamesAndErrors() {
        ModelConfig c = rwkv(Fixtures.llama());
        assertEquals("rwkv", c.toHuggingFace().get("tessera").get("ffn_kind").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        for (String n : List.of("model.layers.0.mlp.time_mix_key", "model.layers.1.mlp.time_mix_receptance", "model.layers.0.mlp.key.weight",
                "model.layers.1.mlp.value.weight", "model.layers.0.mlp.receptance.weight", "model.layers.1.mixer.time_decay")) {
            assertTrue(names.contains(n), n + " in " + names);
        }
        assertArrayEquals(new int[] {c.ffnHidden(), c.dim()}, Models.create(c, new Generator(1)).stateDict().get("model.layers.0.mlp.key.weight")
                .shape(), "hidden width is the model's intermediate_size");
        var h = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().layers(3)
                .hourglass(Hourglass.Options.parse("1@1,1@2,1@1/avg/repeat")).ffnKind(FeedForwardKinds.parse("rwkv")).build());
        assertEquals("ModelConfig: ffn rwkv (a token shift) does not combine with hourglass or perceiver_ar, whose layers see other"
                + " sequences than the tokens", h.getMessage());
        var p = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().attentionKind(AttentionKind.PERCEIVER_AR)
                .attentionOptions(new PerceiverAttention.ArOptions(4)).ffnKind(FeedForwardKinds.parse("rwkv")).build());
        assertEquals(h.getMessage(), p.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.bert(40, 16, 2, 32, 4, 48).toBuilder()
                .ffnKind(FeedForwardKinds.parse("rwkv")).build());
        var o = assertThrows(IllegalArgumentException.class, () -> FeedForwardKinds.options(FeedForwardKinds.parse("rwkv"), Map.of("x", 1)));
        assertEquals("ffn rwkv takes no options, got 'x'", o.getMessage());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 89, "--mixer", "rwkv", "--ffn", "rwkv");
        assertEquals(FeedForwardKinds.parse("rwkv"), c.ffnKind());
        assertEquals(MixerKind.Spec.of("rwkv", Map.of()), c.mixer());
    }
}