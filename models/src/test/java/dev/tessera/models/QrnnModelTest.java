package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.mixer.MixerState;
import dev.tessera.nn.mixer.Qrnn;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** E14 QRNN in place of attention in Llama (and GPT-2): O(1) state decoding equals the full forward, config.json, it learns. */
class QrnnModelTest {

    private static ModelConfig llama(Map<String, ?> options) {
        return Fixtures.llama().toBuilder().mixer(MixerKind.Spec.of("qrnn", options)).build();
    }

    private static ModelConfig gpt2(Map<String, ?> options) {
        return Fixtures.gpt2().toBuilder().mixer(MixerKind.Spec.of("qrnn", options)).build();
    }

    @Test
    void recurrentStateDecodingEqualsTheFullForward() {
        for (ModelConfig c : List.of(llama(Map.of("window", "3", "hidden", "12")), gpt2(Map.of()))) {
            LanguageModel m = Models.create(c, new Generator(61));
            m.module().eval();
            int k = ((Qrnn.Options) c.mixer().options()).window();
            int t = 13;
            Tensor ids = Fixtures.ids(62, 2, t, c.vocabSize());
            try (var s = GradMode.noGrad()) {
                Tensor full = m.forward(ids, null).data();
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
                        Tensor[] state = ((MixerState) cache.state()).tensors();
                        assertEquals(1, state[0].size(1), "O(1): c is (B, 1, H) whatever the position");
                        assertEquals(k - 1, state[1].size(1), "and the last k - 1 inputs");
                    }
                }
                assertTrue(worst < 1e-4, c.architecture() + ": cached logits differ by " + worst);
            }
        }
    }

    @Test
    void shortTrainingRunLowersTheLoss() {
        LanguageModel m = Models.create(llama(Map.of()), new Generator(64));
        double[] loss = Fixtures.train(m, 20, 1e-2, 50);
        assertTrue(loss[1] < 0.7 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }

    @Test
    void configJsonRoundTripAndParameterNames() {
        ModelConfig c = llama(Map.of("window", "3", "hidden", "24"));
        assertEquals("qrnn", c.toHuggingFace().get("tessera").get("mixer").asText());
        assertEquals(c, ModelConfig.fromJson(c.toJson()));
        assertEquals(new Qrnn.Options(3, 24), c.mixer().options());
        var names = Models.create(c, new Generator(1)).stateDict().keySet();
        assertTrue(names.contains("model.layers.0.mixer.weight") && names.contains("model.layers.1.mixer.proj")
                && names.stream().noneMatch(n -> n.contains("self_attn")), names.toString());
        assertArrayEquals(new int[] {3 * 24, 3 * c.dim()},
                Models.create(c, new Generator(1)).stateDict().get("model.layers.0.mixer.weight").shape());
    }
}
