package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.ffn.Delight;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.ffn.FeedForwardKinds;
import dev.tessera.nn.mixer.DelightAttention;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * E6 DeLighT on both sides of the block (the attention-side mixer, {@code --mixer delight}, and the FFN slot,
 * {@code --ffn delight}) with block-wise scaling across the layers: cached decoding, per-layer depths, training,
 * config.json and the command line.
 */
class DelightBlockModelTest {

    /** A 3-layer model with N_min = 2, N_max = 4 on both sides: DExTra depths 2, 3, 4. */
    private static ModelConfig delight(ModelConfig base) {
        Map<String, String> scaling = Map.of("n_min", "2", "n_max", "4", "width_mult", "2");
        return base.toBuilder().layers(3).mixer(MixerKind.Spec.of("delight", scaling)).ffnKind(FeedForward.Kind.DELIGHT)
                .ffnOptions(FeedForwardKinds.options(FeedForward.Kind.DELIGHT, scaling)).build();
    }

    @Test
    void cachedDecodingEqualsTheFullForward() {
        for (ModelConfig c : List.of(delight(Fixtures.llama()), delight(Fixtures.gpt2()))) {
            LruModelTest.decodes(c, kv -> {
                assertEquals(2, kv.length, "the state holds the keys and the values");
                assertEquals(16, kv[0].size(2), "d_o = d_m / 2");
                assertArrayEquals(kv[0].shape(), kv[1].shape());
            });
        }
        LanguageModel m = Models.create(delight(Fixtures.llama()), new Generator(71));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 8, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 8), cached);
    }

    /** Layer b of 3 gets N^b = 2, 3, 4 GLTs on both sides and d_max = w_m^b·d_m = 64, 80, 96, so each layer holds more parameters than the one before. */
    @Test
    void laterLayersAreDeeperAndWider() {
        var state = Models.create(delight(Fixtures.llama()), new Generator(72)).stateDict();
        Set<String> names = state.keySet();
        long before = 0;
        for (int b = 0; b < 3; b++) {
            String layer = "model.layers." + b + ".";
            for (String side : List.of("mixer.dextra.", "mlp.dextra.")) {
                assertTrue(names.contains(layer + side + "glt" + (b + 1) + "_weight") && !names.contains(layer + side + "glt" + (b + 2) + "_weight"),
                        layer + side + ": expected " + (b + 2) + " GLT layers");
            }
            double wm = 2 + (4 - 2) * b / (2.0 * (3 - 1)); // w_m^b = w_m + (N_max − N_min)·b/(N_min·(B − 1)): 2, 2.5, 3
            for (String side : List.of("mixer.dextra.", "mlp.dextra.")) { // d_max = w_m^b·d_m, reached at GLT ⌈N^b/2⌉
                assertEquals((int) (wm * 32), state.get(layer + side + "glt" + ((b + 2 + 1) / 2 - 1) + "_bias").size(0), layer + side);
            }
            long count = state.entrySet().stream().filter(e -> e.getKey().startsWith(layer)).mapToLong(e -> e.getValue().numel()).sum();
            assertTrue(count > before, "layer " + b + ": " + count + " parameters after " + before);
            before = count;
        }
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(delight(Fixtures.llama()), new Generator(73));
        double[] loss = Fixtures.train(m, 20, 1e-2, 74);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndCommandLine(@TempDir Path dir) throws IOException {
        ModelConfig c = delight(Fixtures.llama());
        assertEquals("delight", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new DelightAttention.Options(4, 2, 4, 2, 4), c.mixer().options());
        assertEquals(new Delight.Options(4, 2, 4, 4, 2, 4), c.ffnOptions());
        ModelConfig cli = CliTrainRun.trainedConfig(dir, 75, "--mixer", "delight", "--mixer-option", "n_min=1", "--mixer-option", "n_max=3",
                "--ffn", "delight", "--ffn-option", "depth=0");
        assertEquals(MixerKind.Spec.of("delight", Map.of("n_min", "1", "n_max", "3")), cli.mixer());
        assertEquals(new Delight.Options(0, 2, 4, 4), cli.ffnOptions()); // the paper's block: DExTra before attention, the light FFN alone after
    }
}
