package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.RealFormerAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B16 RealFormer in whole models: switched on by name, the decoders link their layers' kernels so
 * each layer adds the scores of the one below (a one-layer model is plain softmax attention, a
 * two-layer one is not), and a short run lowers the loss. (Cached decoding == full forward is
 * covered for every kind by {@link CachedDecodingTest}.)
 */
class RealFormerModelTest {

    private static ModelConfig with(ModelConfig base) {
        return base.toBuilder().attentionKind(AttentionKind.REALFORMER).build();
    }

    @Test
    void bothDecodersLinkTheirLayers() {
        LanguageModel llama = Models.create(with(Fixtures.llama()), new Generator(51));
        assertInstanceOf(RealFormerAttention.class, ((Llama) llama).blocks().get(1).attention().kernel());
        assertEquals(2, RealFormerAttention.link(llama.module()));
        LanguageModel gpt2 = Models.create(with(Fixtures.gpt2()), new Generator(52));
        assertInstanceOf(RealFormerAttention.class, ((GPT2) gpt2).blocks().get(1).attention().kernel());
    }

    /** Same weights as softmax attention: one layer gives the same logits, two layers differ (layer 1 adds layer 0's scores). */
    @Test
    void residualScoresReachTheLayerAbove() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            Tensor ids = Fixtures.ids(53, 2, 10, base.vocabSize());
            try (var s = GradMode.noGrad()) {
                ModelConfig one = base.toBuilder().layers(1).build();
                double single = Fixtures.maxAbsDiff(Models.create(one, new Generator(54)).forward(ids, null).data(),
                        Models.create(with(one), new Generator(54)).forward(ids, null).data());
                assertTrue(single < 1e-5, base.architecture() + ": one layer is softmax attention, differs by " + single);
                double two = Fixtures.maxAbsDiff(Models.create(base, new Generator(54)).forward(ids, null).data(),
                        Models.create(with(base), new Generator(54)).forward(ids, null).data());
                assertTrue(two > 1e-4, base.architecture() + ": the second layer must see the first's scores, differs by " + two);
            }
        }
    }

    @Test
    void configJsonRoundTripsTheKind() {
        for (ModelConfig c : new ModelConfig[] {with(Fixtures.llama()), with(Fixtures.gpt2())}) {
            assertEquals("realformer", c.toHuggingFace().get("tessera").get("attention_kind").asText());
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
        }
    }

    @Test
    void trainingLowersTheLoss() {
        double[] l = Fixtures.train(Models.create(with(Fixtures.llama()), new Generator(55)), 20, 1e-2, 56);
        assertTrue(l[1] < 0.7 * l[0], "Llama RealFormer loss " + l[0] + " → " + l[1]);
        double[] g = Fixtures.train(Models.create(with(Fixtures.gpt2()), new Generator(57)), 20, 1e-2, 58);
        assertTrue(g[1] < 0.7 * g[0], "GPT-2 RealFormer loss " + g[0] + " → " + g[1]);
    }

    /** {@code tessera train --attention realformer}: config.json names the kind. */
    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        Path run = CliTrainRun.train(dir, 59, "--attention", "realformer");
        assertEquals(AttentionKind.REALFORMER, ModelConfig.fromHuggingFace(run.resolve("config.json")).attentionKind());
    }
}
