package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.Regularizer;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.SparseMlp;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E17 sparse all-MLP (Yu et al. 2022) in Llama and GPT-2: sMoE ({@code --mixer smlp}) in place of attention and tMoE
 * (E16, {@code --ffn moe}) in place of the FFN in every layer, so no layer has attention or a dense FFN; decoding from
 * the cached LN(Z₂) rows equals the full forward, greedy generation equals recomputation, it learns, config.json and CLI switch.
 */
class SparseMlpModelTest {

    private static ModelConfig sparse(ModelConfig base, Map<String, ?> mixer) {
        return base.toBuilder().mixer(MixerKind.Spec.of("smlp", mixer)).ffnKind(FeedForward.Kind.MOE)
                .ffnOptions(FeedForwardKinds.options(FeedForward.Kind.MOE, Map.of("experts", "4", "top_k", "1", "renormalize", "false"))).build();
    }

    private static ModelConfig llama() {
        return sparse(Fixtures.llama(), Map.of("length", "16", "experts", "4"));
    }

    @Test
    void decodingFromTheCachedRowsEqualsTheFullForward() {
        checkDecoding(llama(), 32); // F = C
        checkDecoding(sparse(Fixtures.gpt2(), Map.of("length", "16", "experts", "2", "hidden", "16")), 16);
    }

    /** {@code c} decodes like its full forward, each layer's state holding (B, t, F) rows: every expert's LN(Z₂) chunk. */
    private static void checkDecoding(ModelConfig c, int f) {
        LruModelTest.decodes(c, state -> assertTrue(state[0].size(0) == 2 && state[0].size(2) == f, java.util.Arrays.toString(state[0].shape())));
    }

    @Test
    void greedyGenerationFromTheCacheEqualsRecomputation() {
        LanguageModel m = Models.create(llama(), new Generator(81));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    /** 20 AdamW steps on one batch cut the loss (cross-entropy plus tMoE's auxiliary terms) by 30%. */
    @Test
    void aShortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(), new Generator(82));
        double[] loss = Fixtures.train(m, 20, 1e-2, 83);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
        double aux = Regularizer.total(m.module()).item();
        assertTrue(aux > 0 && Double.isFinite(aux), "tMoE auxiliary terms " + aux);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama();
        var tessera = c.toHuggingFace().get("tessera");
        assertEquals("smlp", tessera.get("mixer").asText());
        assertEquals(4, tessera.get("mixer_options").get("experts").asInt());
        assertEquals("moe", tessera.get("ffn_kind").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new SparseMlp.Options(16, 0, 4), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.experts.3.proj.weight") && names.contains("model.layers.1.mixer.experts.0.norm.bias")
                && names.contains("model.layers.1.mlp.gate.weight") && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 84, "--mixer", "smlp", "--mixer-option", "length=16", "--mixer-option", "experts=2",
                "--ffn", "moe", "--ffn-option", "experts=4");
        assertEquals(MixerKind.Spec.of("smlp", Map.of("length", "16", "experts", "2")), c.mixer());
        assertEquals(FeedForward.Kind.MOE, c.ffnKind());
        assertEquals("tessera: train: mixer smlp: unknown option 'expert' (options: length, hidden, experts)",
                LruModelTest.fails("train", "--mixer", "smlp", "--mixer-option", "expert=2", "--runs-dir", dir.toString(), "--data", dir.toString()));
    }
}
