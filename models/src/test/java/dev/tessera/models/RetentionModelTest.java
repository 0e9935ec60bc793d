package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.RetentionAttention;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * B11 in whole models: {@code attentionKind RETNET} builds the retention kernel in Llama and GPT-2,
 * survives the config.json and Hugging Face config round trips, changes what the model computes,
 * trains from {@code tessera train --attention retnet [--attention-option chunk=C]}, the chunkwise
 * option gives the parallel form's logits, and a short run lowers the loss. (Cached
 * decoding equals the full forward for every kind in {@link CachedDecodingTest}.)
 */
class RetentionModelTest {

    private static ModelConfig retnet(ModelConfig base) {
        return base.toBuilder().attentionKind(AttentionKind.RETNET).build();
    }

    private static ModelConfig chunkwise(ModelConfig base, int chunk) {
        return base.toBuilder().attentionKind(AttentionKind.RETNET).attentionOptions(new RetentionAttention.Options(chunk)).build();
    }

    /** The chunkwise form (option chunk = 3) gives the parallel form's logits, and decodes through the KV cache to them too. */
    @Test
    void chunkOptionSelectsTheChunkwiseFormWithTheSameLogits() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = chunkwise(base, 3);
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(3, c.toHuggingFace().get("tessera").get("attention_options").get("chunk").asInt());
            assertEquals(0, ((RetentionAttention.Options) retnet(base).attentionOptions()).chunk(), "parallel by default");
            LanguageModel m = Models.create(c, new Generator(56));
            var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
            assertEquals(3, ((RetentionAttention) kernel).options().chunk());
            Tensor ids = Fixtures.ids(57, 2, 10, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                double diff = Fixtures.maxAbsDiff(Models.create(retnet(base), new Generator(56)).forward(ids, null).data(), m.forward(ids, null).data());
                assertTrue(diff < 1e-5, base.architecture() + ": chunkwise and parallel logits differ by " + diff);
            }
            new CachedDecodingTest().cachedEqualsFull(base.architecture() + " retnet chunk=3", c);
        }
    }

    @Test
    void configSelectsTheKernelAndRoundTrips() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            ModelConfig c = retnet(base);
            assertEquals(c, ModelConfig.fromJson(c.toJson()));
            assertEquals(c, ModelConfig.fromHuggingFace(c.toHuggingFace()));
            assertEquals("retnet", c.toHuggingFace().get("tessera").get("attention_kind").asText());
            LanguageModel m = Models.create(c, new Generator(51));
            var kernel = m instanceof Llama l ? l.blocks().get(0).attention().kernel() : ((GPT2) m).blocks().get(0).attention().kernel();
            assertInstanceOf(RetentionAttention.class, kernel);
            Tensor ids = Fixtures.ids(52, 2, 8, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                double diff = Fixtures.maxAbsDiff(Models.create(base, new Generator(51)).forward(ids, null).data(), m.forward(ids, null).data());
                assertTrue(diff > 1e-4, base.architecture() + ": retention gives the softmax logits (diff " + diff + ")");
            }
        }
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            double[] loss = Fixtures.train(Models.create(retnet(base), new Generator(53)), 20, 1e-2, 54);
            assertTrue(loss[1] < 0.7 * loss[0], base.architecture() + " retention loss " + loss[0] + " → " + loss[1]);
        }
    }

    @Test
    void trainsFromTheCli(@TempDir Path dir) throws IOException {
        ModelConfig c = CliTrainRun.trainedConfig(dir, 55, "--attention", "retnet", "--attention-option", "chunk=4");
        assertEquals(new RetentionAttention.Options(4), c.attentionOptions()); // ModelConfig checks that the options are the kind's
    }
}
