package dev.tessera.models.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.hf.HuggingFaceCheckpoint;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cached decoding equals recomputing the visible window at every step, past the context too;
 * export → import is bitwise.
 */
class TextGeneratorTest {
    /** The architectures that generate (BERT is an encoder). */
    private static final List<ModelConfig.Architecture> DECODERS = List.of(ModelConfig.Architecture.LLAMA, ModelConfig.Architecture.GPT2);

    static ModelConfig config(ModelConfig.Architecture arch, AttentionKind kind) {
        ModelConfig base = switch (arch) {
            case GPT2 -> ModelConfig.gpt2(64, 32, 2, 32, 4);
            case LLAMA -> ModelConfig.llama(64, 32, 2, 32, 4, 2, 64);
            case BERT -> ModelConfig.bert(64, 32, 2, 32, 4, 64);
        };
        var b = base.toBuilder().attentionKind(kind);
        if (kind == AttentionKind.ALIBI) {
            b.positional(ModelConfig.Positional.NONE);
        }
        if (kind == AttentionKind.SLIDING_WINDOW) {
            b.attentionOptions(new dev.tessera.nn.attention.SlidingWindowAttention.Options(3));
        }
        if (kind == AttentionKind.TOPK) {
            b.attentionOptions(new dev.tessera.nn.attention.TopKAttention.Options(3));
        }
        return b.build();
    }

    /** The kinds a causal decoder takes (the others are bidirectional only). */
    static java.util.stream.Stream<AttentionKind> causalKinds() {
        return java.util.Arrays.stream(AttentionKind.values()).filter(AttentionKind::causal);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("causalKinds")
    void cachedDecodingEqualsFullRecomputation(AttentionKind kind) {
        for (ModelConfig.Architecture arch : DECODERS) {
            LanguageModel model = Models.create(config(arch, kind), new Generator(4));
            int[] prompt = {3, 14, 15, 9, 2};
            Sampler sampler = new Sampler(0.9, 20, 0.95, 1.1);
            int[] cached = new TextGenerator(model).generate(prompt, 12, sampler, new Generator(8), -1, t -> { }).tokens();
            int[] full = withoutCache(model, prompt, 12, sampler, new Generator(8));
            assertArrayEquals(full, cached, arch + " " + kind);
        }
    }

    /**
     * The reference: no cache, the model re-reads its whole window for every token. The window is
     * the last {@code context} tokens of the prompt; once it overflows, it restarts from the
     * newest {@code context / 2} tokens (at position 0) and grows again. The repetition penalty
     * sees the window.
     */
    static int[] withoutCache(LanguageModel model, int[] prompt, int maxTokens, Sampler sampler, Generator g) {
        int context = model.config().contextLength();
        List<Integer> seq = new ArrayList<>();
        for (int t : prompt) {
            seq.add(t);
        }
        int start = Math.max(0, seq.size() - context);
        int[] out = new int[maxTokens];
        model.module().eval();
        try (var scope = GradMode.noGrad()) {
            for (int i = 0; i < maxTokens; i++) {
                List<Integer> window = seq.subList(start, seq.size());
                long[] ids = window.stream().mapToLong(Integer::longValue).toArray();
                Tensor logits = model.forward(Tensor.of(Storage.wrap(DType.I64, ids), 1, ids.length), null).data(); // (1, T, V)
                out[i] = sampler.next(logits.select(0, 0).select(0, ids.length - 1).toFloatArray(), List.copyOf(window), g);
                seq.add(out[i]);
                if (seq.size() - start > context) {
                    start = seq.size() - context / 2;
                }
            }
        }
        return out;
    }

    /** GPT-2 has learned positions (an index past the context would fail), Llama RoPE, ALiBi biases by distance. */
    @ParameterizedTest
    @EnumSource(value = AttentionKind.class, names = {"SOFTMAX", "ALIBI"})
    void keepsGeneratingPastTheContextOnASlidingWindow(AttentionKind kind) {
        for (ModelConfig.Architecture arch : DECODERS) {
            LanguageModel model = Models.create(config(arch, kind), new Generator(4));
            int context = model.config().contextLength();
            Sampler sampler = new Sampler(0.9, 20, 0.95, 1.1);
            int[] shortPrompt = {3, 14, 15, 9, 2};
            int[] longPrompt = java.util.stream.IntStream.range(0, context + 7).map(i -> (i * 7) % 60).toArray();
            for (int[] prompt : new int[][] {shortPrompt, longPrompt}) {
                int n = 3 * context;
                TextGenerator.Result r = new TextGenerator(model).generate(prompt, n, sampler, new Generator(8), -1, t -> { });
                assertArrayEquals(withoutCache(model, prompt, n, sampler, new Generator(8)), r.tokens(),
                        arch + " " + kind + " prompt of " + prompt.length);
                assertTrue(r.contextShifts() >= 4, "shifts: " + r.contextShifts());
            }
        }
    }

    /** Both decoders with their KV caches, past the context (cache refills), on the simulated device: the CPU's tokens. */
    @Test
    void generatesOnTheSimulatedDeviceTheCpuTokens() {
        for (ModelConfig.Architecture arch : DECODERS) {
            LanguageModel model = Models.create(config(arch, AttentionKind.SOFTMAX), new Generator(4));
            int n = 2 * model.config().contextLength();
            Sampler sampler = new Sampler(0.9, 20, 0.95, 1.1);
            int[] cpu = new TextGenerator(model).generate(new int[] {3, 14, 15}, n, sampler, new Generator(8), -1, t -> { }).tokens();
            model.module().to(dev.tessera.tensor.Device.SIM);
            int[] sim = new TextGenerator(model).generate(new int[] {3, 14, 15}, n, sampler, new Generator(8), -1, t -> { }).tokens();
            assertArrayEquals(cpu, sim, arch.toString());
        }
    }

    @Test
    void stopsAtEndOfSequenceAndStreamsEveryToken() {
        LanguageModel model = Models.create(config(ModelConfig.Architecture.LLAMA, AttentionKind.SOFTMAX), new Generator(4));
        int[] greedy = new TextGenerator(model).generate(new int[] {1, 2}, 10, Sampler.greedy(), new Generator(1), -1, t -> { }).tokens();
        int eos = greedy[3];
        StringBuilder streamed = new StringBuilder();
        var r = new TextGenerator(model).generate(new int[] {1, 2}, 10, Sampler.greedy(), new Generator(1), eos,
                t -> streamed.append(t).append(','));
        assertTrue(r.stoppedAtEos());
        int firstEos = java.util.stream.IntStream.range(0, greedy.length).filter(i -> greedy[i] == eos).findFirst().getAsInt();
        assertEquals(firstEos + 1, r.tokens().length);
        assertEquals(java.util.Arrays.stream(r.tokens()).mapToObj(Integer::toString).reduce("", (a, b) -> a + b + ","), streamed.toString());
    }

    @Test
    void exportThenImportIsBitwise(@TempDir Path dir) throws Exception {
        for (ModelConfig.Architecture arch : ModelConfig.Architecture.values()) {
            LanguageModel model = Models.create(config(arch, AttentionKind.SOFTMAX), new Generator(6));
            Path out = dir.resolve(arch.name());
            HuggingFaceCheckpoint.save(model, out);
            LanguageModel back = HuggingFaceCheckpoint.load(out);
            Map<String, Tensor> a = model.stateDict();
            Map<String, Tensor> b = back.stateDict();
            assertEquals(a.keySet(), b.keySet());
            for (String k : a.keySet()) {
                assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), arch + " " + k);
            }
        }
    }
}
