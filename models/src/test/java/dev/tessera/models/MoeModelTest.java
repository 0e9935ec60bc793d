package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.ffn.MixtureOfExperts;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E16 mixture of experts in place of the FFN of Llama and GPT-2: KV-cached decoding equals the full forward, it learns, config.json and CLI switch. */
class MoeModelTest {

    private static ModelConfig moe(ModelConfig base, Map<String, ?> options) {
        return base.toBuilder().ffnKind(FeedForward.Kind.MOE).ffnOptions(FeedForwardKinds.options(FeedForward.Kind.MOE, options)).build();
    }

    @Test
    void cachedDecodingEqualsTheFullForward() {
        decodesLikeTheFullForward(moe(Fixtures.llama(), Map.of("experts", "4")), 71, 13, 5);
        decodesLikeTheFullForward(moe(Fixtures.gpt2(), Map.of("experts", "3", "top_k", "1")), 71, 13, 5);
    }

    /**
     * {@code c}'s model decoding t tokens through its KV caches, {@code prefill} at once then one at a time, gives the logits
     * of the full forward (E16, E1 and E6 FFNs act on each token alone, so the cache carries only attention).
     */
    static void decodesLikeTheFullForward(ModelConfig c, long seed, int t, int prefill) {
        LanguageModel m = Models.create(c, new Generator(seed));
        m.module().eval();
        Tensor ids = Fixtures.ids(seed + 1, 2, t, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = m.forward(ids, null).data(); // (B, T, V)
            List<KvCache> caches = m.newCaches(2, c.contextLength());
            double worst = Fixtures.maxAbsDiff(m.forward(ids.narrow(1, 0, prefill).contiguous(), null, caches).data(),
                    full.narrow(1, 0, prefill));
            for (int p = prefill; p < t; p++) {
                worst = Math.max(worst, Fixtures.maxAbsDiff(m.forward(ids.narrow(1, p, 1).contiguous(), null, caches).data(),
                        full.narrow(1, p, 1)));
            }
            assertTrue(worst < 1e-4, c.architecture() + " ffn " + c.ffnKind() + ": cached logits differ by " + worst);
        }
    }

    @Test
    void generationWithTheCacheEqualsRecomputation() {
        LanguageModel m = Models.create(moe(Fixtures.llama(), Map.of()), new Generator(73));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 8, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 8), cached);
    }

    /** 20 steps lower the loss, the auxiliary terms included (each layer a Regularizer), with capacity dropping tokens in one run. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : List.of(moe(Fixtures.llama(), Map.of("experts", "4")),
                moe(Fixtures.gpt2(), Map.of("experts", "4", "top_k", "1", "renormalize", "false", "capacity_factor", "1.0")))) {
            LanguageModel m = Models.create(c, new Generator(74));
            double[] loss = Fixtures.train(m, 20, 1e-2, 75);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
            double aux = Regularizer.total(m.module()).item();
            assertTrue(aux > 0 && Double.isFinite(aux), "auxiliary terms " + aux); // each layer's term reaches Regularizer.total
        }
    }

    @Test
    void configJsonRoundTripParameterNamesAndErrors() {
        ModelConfig c = moe(Fixtures.llama(), Map.of("experts", "4", "capacity_factor", "1.25"));
        assertEquals("moe", c.toHuggingFace().get("tessera").get("ffn_kind").asText());
        assertEquals(4, c.toHuggingFace().get("tessera").get("ffn_options").get("experts").asInt());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new MixtureOfExperts.Options(4, 2, 0, 1.25, 0.01, 0.001, true), c.ffnOptions());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mlp.gate.weight") && names.contains("model.layers.1.mlp.experts.gate_up_proj")
                && names.contains("model.layers.1.mlp.experts.down_proj") && names.stream().noneMatch(n -> n.contains("up_proj.weight")),
                names.toString());
        assertTrue(Models.create(moe(Fixtures.gpt2(), Map.of()), new Generator(1)).stateDict().keySet().contains("transformer.h.1.mlp.gate.weight"));
        assertEquals(new MixtureOfExperts.Options(8, 2, 0, 0, 0.01, 0.001, true), Fixtures.llama().toBuilder().ffnKind(FeedForward.Kind.MOE)
                .build().ffnOptions(), "defaults at build");
        var json = c.toHuggingFace();
        ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("tessera").get("ffn_options")).put("top_k", 5);
        var j = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: tessera.ffn_options: ffn moe: need experts >= 1, 1 <= top_k <= experts and hidden >= 0, got experts=4"
                + " top_k=5 hidden=0", j.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> moe(ModelConfig.bert(40, 16, 2, 32, 4, 48), Map.of()));
        assertTrue(b.getMessage().startsWith("ModelConfig: BERT is post-LayerNorm with a plain (or conditional) MLP"), b.getMessage());
    }

    /** The default expert width is ffnHidden / k, so the active parameters per token equal the dense SwiGLU's. */
    @Test
    void activeParametersEqualTheDenseFfn() {
        ModelConfig dense = Fixtures.llama();
        long denseFfn = Models.create(dense, new Generator(1)).module().stateDict().entrySet().stream()
                .filter(e -> e.getKey().startsWith("model.layers.0.mlp.")).mapToLong(e -> e.getValue().numel()).sum();
        var moe = (MixtureOfExperts.Options) moe(dense, Map.of("experts", "4")).ffnOptions();
        int h = moe.expertHidden(dense.ffnHidden());
        assertEquals(denseFfn, (long) moe.topK() * 3 * h * dense.dim());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 76, "--ffn", "moe", "--ffn-option", "experts=4", "--ffn-option", "top_k=1");
        assertEquals(FeedForward.Kind.MOE, c.ffnKind());
        assertEquals(FeedForwardKinds.options(FeedForward.Kind.MOE, Map.of("experts", "4", "top_k", "1")), c.ffnOptions());
        assertEquals("tessera: train: ffn moe: unknown option 'expert' (options: experts, top_k, hidden, capacity_factor, aux_loss, z_loss,"
                + " renormalize)", LruModelTest.fails("train", "--ffn", "moe", "--ffn-option", "expert=2", "--runs-dir", dir.toString(), "--data", dir.toString()));
        assertEquals("tessera: train: ffn: unknown kind 'moa' (kinds: " + FeedForwardKinds.names() + ")",
                LruModelTest.fails("train", "--ffn", "moa", "--runs-dir", dir.toString(), "--data", dir.toString()));
        String resume = dir.resolve("runs/r/config.json").toString();
        String err = LruModelTest.fails("train", "--data", dir.resolve("data.txt").toString(), "--runs-dir", dir.resolve("runs").toString(),
                "--cache-dir", dir.resolve("cache").toString(), "--name", "r", "--steps", "4", "--resume", "--ffn-option", "experts=5");
        assertTrue(err.contains("contradicts the run's " + resume + " (ffn moe {experts=4, top_k=1,") && err.lines().count() == 1, err);
    }
}
