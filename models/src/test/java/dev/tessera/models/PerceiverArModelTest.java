package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.models.train.Objective;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.attention.PerceiverAttention;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B23 Perceiver AR in both decoders: switched on by name with its latent count, saved in
 * config.json, the first layer's last N queries over all positions, later layers on the N latents,
 * the loss on the last N targets, and cached decoding equal to the full forward's last logits.
 */
class PerceiverArModelTest {

    private static ModelConfig ar(ModelConfig base, int n) {
        return base.toBuilder().attentionKind(AttentionKind.PERCEIVER_AR).attentionOptions(new PerceiverAttention.ArOptions(n)).build();
    }

    /** Logits only for the last N positions; with N ≥ T it is the plain causal decoder, weight for weight. */
    @Test
    void predictsTheLastNPositionsAndIsThePlainDecoderWhenNCoversT() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            Tensor ids = Fixtures.ids(41, 2, 10, base.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor plain = Models.create(base, new Generator(42)).forward(ids, null).data(); // (2, 10, V)
                Tensor wide = Models.create(ar(base, 16), new Generator(42)).forward(ids, null).data();
                Tensor latents = Models.create(ar(base, 3), new Generator(42)).forward(ids, null).data();
                assertTrue(Fixtures.maxAbsDiff(plain, wide) < 1e-5, base.architecture() + ": N >= T is the plain decoder");
                assertArrayEquals(new int[] {2, 3, base.vocabSize()}, latents.shape());
                // the first latent sees all 8 positions up to it but no latent before it in later layers: it differs from the plain decoder
                assertTrue(Fixtures.maxAbsDiff(plain.narrow(1, 7, 3).contiguous(), latents) > 1e-4, base.architecture() + ": latents change");
            }
        }
    }

    /** The first-layer keys reach back to position 0: changing the first token changes the latents' logits (with 2 layers). */
    @Test
    void latentsReadTheWholeInput() {
        ModelConfig c = ar(Fixtures.llama(), 2);
        LanguageModel m = Models.create(c, new Generator(43));
        long[] a = Fixtures.ids(44, 1, 12, c.vocabSize()).toLongArray();
        long[] b = a.clone();
        b[0] = (a[0] + 1) % c.vocabSize();
        try (var s = GradMode.noGrad()) {
            Tensor la = m.forward(Tensor.of(a, 1, 12), null).data();
            Tensor lb = m.forward(Tensor.of(b, 1, 12), null).data();
            assertTrue(Fixtures.maxAbsDiff(la, lb) > 1e-6, "position 0 must reach the latents");
        }
    }

    /** Decoding token by token with the two caches gives the full forward's last-position logits at every length (1 … 12). */
    @Test
    void cachedDecodingMatchesTheFullForwardAtTheLastPosition() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = ar(base.toBuilder().dtype(DType.F64).build(), 4);
            LanguageModel m = Models.create(c, new Generator(45));
            m.module().eval();
            Tensor ids = Fixtures.ids(46, 2, 12, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                List<KvCache> caches = m.newCaches(2, c.contextLength());
                assertEquals(2, caches.size());
                Tensor prefill = m.forward(ids.narrow(1, 0, 5).contiguous(), null, caches).data(); // a prompt of 5, then single tokens
                Tensor full5 = m.forward(ids.narrow(1, 0, 5).contiguous(), null).data();
                assertTrue(Fixtures.maxAbsDiff(full5, prefill) < 1e-12, base.architecture() + ": prefill");
                for (int p = 5; p < 12; p++) {
                    Tensor step = m.forward(ids.narrow(1, p, 1).contiguous(), null, caches).data(); // (2, 1, V): the new position's logits
                    assertEquals(1, step.size(1));
                    Tensor full = m.forward(ids.narrow(1, 0, p + 1).contiguous(), null).data();
                    int n = full.size(1);
                    assertEquals(4, n);
                    assertTrue(Fixtures.maxAbsDiff(full.narrow(1, n - 1, 1).contiguous(), step) < 1e-12,
                            base.architecture() + ": length " + (p + 1));
                    assertEquals(p + 1, caches.get(0).length());
                }
            }
        }
    }

    /** The next-token objective scores the last N targets; 20 steps of it lower the loss in both decoders. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = ar(base, 6);
            LanguageModel m = Models.create(c, new Generator(47));
            Tensor seq = Fixtures.ids(48, 4, c.contextLength() + 1, c.vocabSize());
            Tensor x = seq.narrow(1, 0, c.contextLength()).contiguous();
            Tensor y = seq.narrow(1, 1, c.contextLength()).contiguous();
            var batch = new PackedDataset.Batch(0, x, y, Tensor.zeros(DType.I64, 4, c.contextLength()));
            Objective objective = Objective.nextToken(0);
            AdamW opt = new AdamW(ParamGroup.all(m.module().parameters()), 1e-2);
            double first = Double.NaN;
            for (int step = 0; step < 20; step++) {
                opt.zeroGrad();
                Variable loss = objective.loss(m, batch, step);
                loss.backward();
                opt.step();
                first = step == 0 ? loss.item() : first;
            }
            double last;
            try (var s = GradMode.noGrad()) {
                last = objective.validationLoss(m, batch, 0).item();
                Tensor lastTargets = Objective.scoredTargets(m.forward(x, batch.mask()), y);
                assertArrayEquals(y.narrow(1, 10, 6).contiguous().toLongArray(), lastTargets.toLongArray());
            }
            assertTrue(last < 0.7 * first, base.architecture() + ": loss " + first + " -> " + last);
        }
    }

    @Test
    void configJsonRoundTripAndOneLineErrors() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = ar(base, 5);
            var json = c.toHuggingFace();
            assertEquals("perceiver_ar", json.get("tessera").get("attention_kind").asText());
            assertEquals(5, json.get("tessera").get("attention_options").get("latents").asInt());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
        }
        assertEquals(new PerceiverAttention.ArOptions(64), AttentionKind.PERCEIVER_AR.defaultOptions());
        assertEquals(new PerceiverAttention.ArOptions(8), AttentionKind.PERCEIVER_AR.options(Map.of("latents", "8")));
        assertEquals("attention perceiver_ar: option latents must be >= 1, got 0", assertThrows(IllegalArgumentException.class,
                () -> AttentionKind.PERCEIVER_AR.options(Map.of("latents", "0"))).getMessage());
        assertTrue(AttentionKind.PERCEIVER_AR.causal());
        var e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.bert(20, 16, 2, 32, 4, 64).toBuilder()
                .attentionKind(AttentionKind.PERCEIVER_AR).build());
        assertEquals("ModelConfig: attention perceiver_ar predicts the last positions of a causal decoder; bert is an encoder", e.getMessage());
        var h = assertThrows(IllegalArgumentException.class, () -> ar(Fixtures.llama().toBuilder().layers(3).build(), 3).toBuilder()
                .hourglass(dev.tessera.nn.block.Hourglass.Options.parse("1@1,1@2,1@1")).build());
        assertEquals("ModelConfig: hourglass does not combine with perceiver_ar (both reshape the layer stack)", h.getMessage());
        LanguageModel m = Models.create(ar(Fixtures.llama(), 3), new Generator(1));
        var f = assertThrows(IllegalArgumentException.class, () -> m.forward(Fixtures.ids(1, 1, 4, 40), AttentionMask.causalOnly(),
                List.of(KvCache.growing(), KvCache.growing(), KvCache.growing())));
        assertEquals("Llama: perceiver_ar decodes with its two caches (first-layer keys/values and inputs), got 3 caches", f.getMessage());
    }
}
