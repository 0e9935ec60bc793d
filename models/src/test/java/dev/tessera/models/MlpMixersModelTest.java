package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.cli.Tessera;
import dev.tessera.models.generate.Sampler;
import dev.tessera.models.generate.TextGenerator;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The MLP/Fourier token mixers of issue 17 in the models: the bidirectional ones (E7 FNet, ...)
 * replace attention in every BERT layer and learn the masked-LM objective; padding never reaches
 * the real tokens; the causal decoders refuse them in one line; config.json and the CLI switch them on.
 */
class MlpMixersModelTest {
    private static final int VOCAB = 20; // id 19 is [MASK]
    private static final int T = 16;

    static Stream<MixerKind.Spec> bidirectional() {
        return Stream.of(MixerKind.Spec.of("fnet", Map.of()), MixerKind.Spec.of("gmlp", Map.of("length", "16", "causal", "false")),
                MixerKind.Spec.of("mlp_mixer", Map.of("length", "16", "hidden", "8", "causal", "false")),
                MixerKind.Spec.of("shift", Map.of("mode", "spatial", "causal", "false")), MixerKind.Spec.of("pool", Map.of("causal", "false")),
                MixerKind.Spec.of("global_filter", Map.of("length", "16")),
                MixerKind.Spec.of("global_filter", Map.of("length", "16", "mode", "afno", "blocks", "4")), MixerKind.Spec.of("fno", Map.of("modes", "4")),
                MixerKind.Spec.of("hypermixer", Map.of("length", "16", "causal", "false")));
    }

    /** The causal forms, sized to the fixtures' context of 16. */
    static Stream<MixerKind.Spec> causal() {
        return Stream.of(MixerKind.Spec.of("gmlp", Map.of("length", "16")), MixerKind.Spec.of("mlp_mixer", Map.of("length", "16")),
                MixerKind.Spec.of("shift", Map.of()), MixerKind.Spec.of("shift", Map.of("mode", "spatial")), MixerKind.Spec.of("pool", Map.of()),
                MixerKind.Spec.of("hypermixer", Map.of("length", "16")));
    }

    /** Llama and GPT-2 with the causal mixer: chunked decoding through the cache list == the full forward; greedy generation == recomputation. */
    @ParameterizedTest
    @MethodSource("causal")
    void decodingFromTheCacheEqualsTheFullForward(MixerKind.Spec mixer) {
        for (ModelConfig c : List.of(Fixtures.llama().toBuilder().mixer(mixer).build(), Fixtures.gpt2().toBuilder().mixer(mixer).build())) {
            LruModelTest.decodes(c, state -> assertTrue(state.length >= 1 && state[0].size(0) == 2, mixer + ": per-layer state"));
        }
        LanguageModel m = Models.create(Fixtures.llama().toBuilder().mixer(mixer).build(), new Generator(63));
        int[] prompt = {3, 1, 4, 1};
        int[] cached = new TextGenerator(m).generate(prompt, 10, Sampler.greedy(), new Generator(1), -1, tok -> { }).tokens();
        assertArrayEquals(Fixtures.greedyByRecomputation(m, prompt, 10), cached);
    }

    /** 20 steps on one batch cut a Llama's loss by 30%. */
    @ParameterizedTest
    @MethodSource("causal")
    void aShortDecoderRunLowersTheLoss(MixerKind.Spec mixer) {
        double[] loss = Fixtures.train(Models.create(Fixtures.llama().toBuilder().mixer(mixer).build(), new Generator(64)), 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], mixer + ": loss " + loss[0] + " -> " + loss[1]);
    }

    static ModelConfig bert(MixerKind.Spec mixer) {
        return ModelConfig.bert(VOCAB, T, 2, 32, 4, 64).toBuilder().mixer(mixer).build();
    }

    /** 40 masked-LM steps on counting rows (EncoderAttentionKindsTest's run) cut the held-out loss by 30%. */
    @ParameterizedTest
    @MethodSource("bidirectional")
    void aShortMaskedLmRunLowersTheLoss(MixerKind.Spec mixer) {
        double[] loss = EncoderAttentionKindsTest.heldOutLossBeforeAndAfter(bert(mixer));
        assertTrue(loss[1] < 0.7 * loss[0], mixer + ": held-out masked-LM loss " + loss[0] + " → " + loss[1]);
    }

    /** A padded row's logits at its real positions equal those of the row alone: the mixer keeps padding out. */
    @ParameterizedTest
    @MethodSource("bidirectional")
    void paddingDoesNotReachTheRealTokens(MixerKind.Spec mixer) {
        Bert model = new Bert(bert(mixer), new Generator(6));
        model.eval();
        Tensor ids = Fixtures.ids(7, 1, 11, VOCAB);
        long[] attention = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
        try (var noGrad = GradMode.noGrad()) {
            Tensor padded = model.forward(ids, null, Bert.paddingMask(Tensor.of(attention, 1, 11))).data(); // (1, 11, V)
            Tensor alone = model.forward(ids.narrow(1, 0, 8).contiguous(), null, AttentionMask.NONE).data(); // (1, 8, V)
            double diff = Fixtures.maxAbsDiff(padded.narrow(1, 0, 8), alone);
            assertTrue(diff < 1e-4, mixer + ": padding changed the real logits by " + diff);
        }
    }

    @Test
    void decodersRefuseABidirectionalMixerAndConfigJsonRoundTrips() {
        var e = assertThrows(IllegalArgumentException.class, () -> Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("fnet", Map.of())).build());
        assertEquals("ModelConfig: mixer fnet {} mixes the whole sequence both ways; llama is a causal decoder (train it in bert)", e.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("fnet", Map.of())).build());
        assertTrue(g.getMessage().endsWith("gpt2 is a causal decoder (train it in bert)"), g.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> bert(MixerKind.Spec.of("gmlp", Map.of())));
        assertEquals("ModelConfig: mixer gmlp replaces attention in the causal decoders, not bert (set causal=false for its bidirectional form)",
                b.getMessage());
        ModelConfig c = bert(MixerKind.Spec.of("fnet", Map.of()));
        assertEquals("fnet", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        var names = new Bert(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("bert.encoder.layer.1.mixer_output.LayerNorm.weight") && names.stream().noneMatch(n -> n.contains("attention")),
                names.toString());
    }

    /** {@code tessera train --model-config bert.json --mixer fnet} and a Llama with {@code --mixer gmlp}: the runs' config.json name the mixer. */
    @Test
    void switchedOnFromTheCommandLine(@TempDir Path dir) throws IOException {
        StringBuilder text = new StringBuilder();
        Generator g = new Generator(8);
        while (text.length() < 1500) {
            text.append((char) ('a' + g.nextLong(6))).append(g.nextLong(5) == 0 ? ' ' : "");
        }
        Path data = Files.writeString(dir.resolve("data.txt"), text);
        Path config = Files.writeString(dir.resolve("bert.json"), ModelConfig.bert(257, 16, 1, 16, 2, 32).toJson());
        StringWriter err = new StringWriter();
        var cl = Tessera.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        assertEquals(0, cl.execute("train", "--model-config", config.toString(), "--data", data.toString(), "--runs-dir",
                dir.resolve("runs").toString(), "--cache-dir", dir.resolve("cache").toString(), "--name", "r", "--steps", "2",
                "--eval-every", "2", "--checkpoint-every", "2", "--eval-batches", "1", "--batch-size", "2", "--sample-tokens", "0",
                "--mixer", "fnet"), err.toString());
        ModelConfig saved = ModelConfig.fromHuggingFace(dir.resolve("runs/r/config.json"));
        assertEquals(MixerKind.Spec.of("fnet", Map.of()), saved.mixer());
        assertEquals(ModelConfig.Architecture.BERT, saved.architecture());
        ModelConfig decoder = CliTrainRun.trainedConfig(Files.createDirectories(dir.resolve("llama")), 9, "--mixer", "gmlp", "--mixer-option", "length=16");
        assertEquals(MixerKind.Spec.of("gmlp", Map.of("length", "16")), decoder.mixer());
    }
}
