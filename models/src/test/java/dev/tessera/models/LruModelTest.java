package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.mixer.Lru;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** E11 LRU in place of attention in Llama and GPT-2: O(1) recurrent-state decoding equals the full forward, config.json and CLI switch, it learns. */
class LruModelTest {

    private static ModelConfig lru(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("lru", options)).build();
    }

    private static ModelConfig gpt2(Map<String, ?> options) {
        return Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("lru", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        for (ModelConfig c : List.of(lru(Map.of("state", "12")), gpt2(Map.of("state", "12")))) {
            decodes(c, state -> assertArrayEquals(new int[] {2, 1, 12}, state[0].shape(), "O(1): the state is (B, 1, N) whatever the position"));
        }
    }

    /**
     * Decodes 13 tokens of {@code c}'s model in chunks from the per-layer recurrent states and checks
     * the logits against the full forward, the cache lengths, and {@code stateCheck} on each layer's
     * state tensors after each chunk.
     */
    static void decodes(ModelConfig c, java.util.function.Consumer<Tensor[]> stateCheck) {
        LanguageModel m = Models.create(c, new Generator(61));
        m.module().eval();
        int t = 13;
        Tensor ids = Fixtures.ids(62, 2, t, c.vocabSize());
        try (var s = GradMode.noGrad()) {
            Tensor full = m.forward(ids, null).data(); // (B, T, V)
            List<KvCache> caches = m.newCaches(2, c.contextLength());
            int p = 4;
            double worst = Fixtures.maxAbsDiff(m.forward(ids.narrow(1, 0, p).contiguous(), null, caches).data(), full.narrow(1, 0, p));
            while (p < t) {
                int n = p == 8 ? 3 : 1;
                worst = Math.max(worst, Fixtures.maxAbsDiff(m.forward(ids.narrow(1, p, n).contiguous(), null, caches).data(),
                        full.narrow(1, p, n)));
                p += n;
                for (KvCache cache : caches) {
                    assertEquals(p, cache.length());
                    stateCheck.accept(((MixerState) cache.state()).tensors());
                }
            }
            assertTrue(worst < 1e-4, c.architecture() + ": cached logits differ by " + worst);
        }
    }

    @Test
    void generationFromTheStateEqualsRecomputation() {
        LanguageModel m = Models.create(lru(Map.of()), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
        assertEquals(30, new TextGenerator(m).generate(prompt, 30, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens().length,
                "past the context the state is reset and refilled");
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig c : List.of(lru(Map.of()), gpt2(Map.of()))) {
            LanguageModel m = Models.create(c, new Generator(64));
            double[] loss = Fixtures.train(m, 20, 1e-2, 50);
            assertTrue(loss[1] < 0.7 * loss[0], c.architecture() + ": loss " + loss[0] + " -> " + loss[1]);
        }
    }

    @Test
    void configJsonRoundTripParameterNamesAndErrors() {
        ModelConfig c = lru(Map.of("r_min", "0.8", "state", "8"));
        assertEquals("lru", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Lru.Options(8, 0.8, 0.999, 2 * Math.PI), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.nu_log") && names.contains("model.layers.1.mixer.B_re")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        var json = c.toHuggingFace();
        ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("tessera")).put("mixer", "mamba");
        var j = assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromHuggingFace(json));
        assertEquals("config.json: tessera.mixer: unknown kind 'mamba' (kinds: " + MixerKind.names() + ")", j.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> ModelConfig.bert(40, 16, 2, 32, 4, 48).toBuilder()
                .mixer(MixerKind.Spec.of("lru", Map.of())).build());
        assertEquals("ModelConfig: mixer lru replaces attention in the causal decoders, not bert", g.getMessage());
        assertTrue(Models.create(gpt2(Map.of()), new Generator(1)).stateDict().keySet().contains("transformer.h.1.mixer.C_im"));
        var a = assertThrows(IllegalArgumentException.class, () -> lru(Map.of()).toBuilder().attentionKind(AttentionKind.LINEAR).build());
        assertEquals("ModelConfig: mixer lru replaces attention in every layer; it does not combine with attention linear", a.getMessage());
    }

    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 65, "--mixer", "lru", "--mixer-option", "state=8");
        assertEquals(MixerKind.Spec.of("lru", Map.of("state", "8")), c.mixer());
        assertEquals("tessera: train: mixer lru: unknown option 'depth' (options: state, r_min, r_max, max_phase)",
                fails("train", "--mixer", "lru", "--mixer-option", "depth=2", "--runs-dir", dir.toString(), "--data", dir.toString()));
        String resume = dir.resolve("runs/r/config.json").toString();
        String err = fails("train", "--data", dir.resolve("data.txt").toString(), "--runs-dir", dir.resolve("runs").toString(), "--cache-dir",
                dir.resolve("cache").toString(), "--name", "r", "--steps", "4", "--resume", "--mixer-option", "state=9");
        assertTrue(err.endsWith("contradicts the run's " + resume + " (mixer lru {state=8, r_min=0.9, r_max=0.999, max_phase="
                + 2 * Math.PI + "}); a resume rebuilds the run as it was created: drop the option") && err.lines().count() == 1, err);
    }

    /** Runs the CLI, which must fail; its one-line error. */
    private static String fails(String... args) {
        StringWriter err = new StringWriter();
        var cl = dev.tessera.models.cli.Tessera.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertTrue(cl.execute(args) != 0, String.join(" ", args));
        return err.toString().strip();
    }
}
