package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.block.Define;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E6 DeFINE's deep factorized token embedding in place of the token table of Llama and GPT-2: decoding, training, size, config.json and CLI. */
class DefineModelTest {

    private static ModelConfig define(ModelConfig base, Map<String, ?> options) {
        return base.toBuilder().embedding(Define.options(options)).build();
    }

    @Test
    void cachedDecodingEqualsTheFullForward() {
        MoeModelTest.decodesLikeTheFullForward(define(Fixtures.llama(), Map.of()), 101, 9, 3);
        MoeModelTest.decodesLikeTheFullForward(define(Fixtures.llama(), Map.of("dim", "8", "depth", "2")).toBuilder().tieEmbeddings(true)
                .build(), 102, 9, 3);
        MoeModelTest.decodesLikeTheFullForward(define(Fixtures.gpt2(), Map.of("width", "48")), 103, 9, 3);
        LanguageModel m = Models.create(define(Fixtures.llama(), Map.of()), new Generator(104));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 8, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 8), cached);
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        // GPT-2's head is tied: its logits pass through the n-wide table, so n = m/2 here (n = m/4 = 8 for 40 tokens learns slower)
        for (ModelConfig c : List.of(define(Fixtures.llama(), Map.of()), define(Fixtures.gpt2(), Map.of("dim", "16")))) {
            LanguageModel m = Models.create(c, new Generator(105));
            double[] loss = Fixtures.train(m, 20, 1e-2, 106);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    /** With the head tied to the narrow table (through an m → n projection) a large vocabulary costs V·n, not V·m, on both sides. */
    @Test
    void tiedModelIsSmallerThanWithTheDenseTable() {
        ModelConfig dense = Fixtures.llama().toBuilder().vocabSize(1000).tieEmbeddings(true).build();
        ModelConfig factorized = define(dense, Map.of("dim", "8"));
        var state = Models.create(factorized, new Generator(107)).module().stateDict();
        assertArrayEquals(new int[] {1000, 8}, state.get("model.embed_tokens.weight").shape());
        assertArrayEquals(new int[] {8, 32}, state.get("lm_head.dense.weight").shape());
        assertTrue(state.containsKey("model.embed_tokens.glt2_weight") && state.containsKey("model.embed_tokens.out_proj.weight"));
        long small = Models.create(factorized, new Generator(107)).module().parameterCount();
        long large = Models.create(dense, new Generator(107)).module().parameterCount();
        assertTrue(small < large - 1000 * (32 - 8) / 2, small + " parameters with DeFINE vs " + large + " with the table");
    }

    @Test
    void configJsonRoundTripAndCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = define(Fixtures.gpt2(), Map.of("dim", "16", "depth", "4"));
        assertEquals("define", c.toHuggingFace().get("tessera").get("embedding").asText());
        assertEquals(16, c.toHuggingFace().get("tessera").get("embedding_options").get("dim").asInt());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(null, ModelConfig.fromJson(Fixtures.gpt2().toJson()).embedding());
        ModelConfig cli = CliTrainRun.trainedConfig(dir, 108, "--embedding", "define", "--embedding-option", "dim=8");
        assertEquals(new Define.Options(8, 3, 0, 4), cli.embedding());
        var bert = assertThrows(IllegalArgumentException.class, () -> define(ModelConfig.bert(40, 16, 1, 32, 4, 64), Map.of()));
        assertEquals("ModelConfig: embedding define is for the causal decoders, not bert", bert.getMessage());
        var json = assertThrows(IllegalArgumentException.class,
                () -> ModelConfig.fromJson(c.toJson().replace("\"embedding\" : \"define\"", "\"embedding\" : \"adaptive\"")));
        assertEquals("config.json: tessera.embedding: unknown kind 'adaptive' (kinds: define)", json.getMessage());
    }
}
