package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Decoding with KV caches (a prompt, then one token at a time) gives the full forward's logits. */
class CachedDecodingTest {

    static Stream<Arguments> models() {
        List<Arguments> out = new ArrayList<>();
        for (ModelConfig base : List.of(Fixtures.llama(), Fixtures.gpt2())) {
            for (AttentionKind kind : AttentionKind.values()) {
                if (!kind.causal()) {
                    continue; // bidirectional only: no decoder takes it
                }
                ModelConfig.Builder b = base.toBuilder().attentionKind(kind);
                if (kind == AttentionKind.ALIBI) {
                    b.positional(ModelConfig.Positional.NONE);
                }
                if (kind == AttentionKind.SLIDING_WINDOW) {
                    b.attentionOptions(new dev.tessera.nn.attention.SlidingWindowAttention.Options(3)); // shorter than the prompt: the windowed cache drops keys on the way
                }
                if (kind == AttentionKind.TOPK) {
                    b.attentionOptions(new dev.tessera.nn.attention.TopKAttention.Options(2)); // fewer than the prompt: later queries drop keys
                }
                out.add(Arguments.of(base.architecture() + " " + kind, b.build()));
            }
        }
        // the other positional schemes and switches that touch the cached path
        ModelConfig l = Fixtures.llama();
        out.add(Arguments.of("LLAMA interleaved rope, qk-norm", l.toBuilder().positional(ModelConfig.Positional.ROPE_INTERLEAVED)
                .qkNorm(true).ropeTheta(500000).build()));
        out.add(Arguments.of("LLAMA learned positions, sandwich", l.toBuilder().positional(ModelConfig.Positional.LEARNED)
                .normPlacement(dev.tessera.nn.norm.NormPlacement.SANDWICH).build()));
        out.add(Arguments.of("LLAMA deepnorm, soft caps", l.toBuilder().normPlacement(dev.tessera.nn.norm.NormPlacement.POST).deepNorm(true)
                .attentionSoftCap(5).finalSoftCap(3).build()));
        out.add(Arguments.of("GPT2 sinusoidal, qk-norm", Fixtures.gpt2().toBuilder().positional(ModelConfig.Positional.SINUSOIDAL)
                .qkNorm(true).build()));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void cachedEqualsFull(String name, ModelConfig c) {
        LanguageModel m = Models.create(c, new Generator(11));
        m.module().eval();
        int b = 2;
        int t = 9;
        int prompt = 4;
        Tensor ids = Fixtures.ids(12, b, t, c.vocabSize());
        try (var scope = GradMode.noGrad()) {
            Tensor full = m.forward(ids, null).data(); // (B, T, V)
            List<KvCache> caches = m.newCaches(b, c.contextLength());
            Tensor first = m.forward(ids.narrow(1, 0, prompt).contiguous(), null, caches).data(); // (B, prompt, V)
            assertEquals(prompt, caches.get(0).length());
            double worst = Fixtures.maxAbsDiff(first, full.narrow(1, 0, prompt));
            for (int p = prompt; p < t; p++) {
                Variable step = m.forward(ids.narrow(1, p, 1).contiguous(), null, caches); // (B, 1, V)
                worst = Math.max(worst, Fixtures.maxAbsDiff(step.data(), full.narrow(1, p, 1)));
            }
            assertEquals(t, caches.get(c.layers() - 1).length());
            assertTrue(worst < 2e-4, name + ": cached logits differ from the full forward by " + worst);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void growingCachesWorkToo(String name, ModelConfig c) {
        if (c.attentionKind() != AttentionKind.SOFTMAX) {
            return;
        }
        LanguageModel m = Models.create(c, new Generator(13));
        m.module().eval();
        Tensor ids = Fixtures.ids(14, 1, 5, c.vocabSize());
        Tensor full = m.forward(ids, null).data();
        List<KvCache> caches = new ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            caches.add(KvCache.growing());
        }
        m.forward(ids.narrow(1, 0, 4).contiguous(), null, caches);
        Tensor last = m.forward(ids.narrow(1, 4, 1).contiguous(), null, caches).data();
        assertTrue(Fixtures.maxAbsDiff(last, full.narrow(1, 4, 1)) < 2e-4);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void badCachesAreOneLineErrors(String name, ModelConfig c) {
        if (c.attentionKind() != AttentionKind.SOFTMAX) {
            return;
        }
        LanguageModel m = Models.create(c, new Generator(15));
        Tensor ids = Fixtures.ids(16, 1, 3, c.vocabSize());
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(ids, null, m.newCaches(1, 8).subList(0, 1)));
        assertTrue(e.getMessage().contains("1 caches for 2 layers"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> m.forward(ids.to(dev.tessera.tensor.DType.F32), null));
        assertTrue(f.getMessage().contains("ids must be an integer (B, T) tensor"), f.getMessage());
    }
}
