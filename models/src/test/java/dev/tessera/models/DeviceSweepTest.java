package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.mixer.MixerKind;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14: every nn component runs unchanged on any device. For each attention, mixer, ffn, norm
 * and positional kind, one AdamW training step of a tiny model on the simulated device (which keeps
 * buffers behind the device seam but runs the CPU kernels) must give the CPU's loss and updated
 * weights bit for bit. A module that builds a host tensor in its forward and mixes it with device
 * inputs fails here with the dispatcher's mixed-device error. Causal kinds train in a Llama, the
 * bidirectional-only ones (and the encoder forms of the two-way mixers) in a BERT; kinds with a
 * required option get a small one (sliding window 4, top-k 4) and ALiBi takes positional NONE. One
 * layer keeps the 252 cases near 10 s; every host constant sits in each layer, so one finds it.
 */
class DeviceSweepTest {
    private static final ModelConfig LLAMA = ModelConfig.llama(64, 16, 1, 32, 4, 2, 64);
    private static final ModelConfig BERT = ModelConfig.bert(64, 16, 1, 32, 4, 64);

    record Case(String name, ModelConfig config) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (AttentionKind k : AttentionKind.values()) {
            Map<String, Object> options = switch (k) {
                case SLIDING_WINDOW -> Map.of("window", 4);
                case TOPK -> Map.of("k", 4);
                default -> Map.of();
            };
            ModelConfig.Builder b = (k.causal() ? LLAMA : BERT).toBuilder().attentionKind(k).attentionOptions(k.options(options));
            cases.add(new Case("attention " + k, (k == AttentionKind.ALIBI ? b.positional(ModelConfig.Positional.NONE) : b).build()));
        }
        for (MixerKind k : MixerKind.values()) {
            MixerKind.Spec spec = MixerKind.Spec.of(k.configName(), Map.of());
            cases.add(new Case("mixer " + k, (spec.causal() ? LLAMA : BERT).toBuilder().mixer(spec).build()));
            if (spec.options() instanceof MixerKind.Directional) {
                cases.add(new Case("mixer " + k + " encoder", BERT.toBuilder().mixer(MixerKind.Spec.of(k.configName(),
                        k == MixerKind.SHIFT ? Map.of("mode", "spatial", "causal", false) : Map.of("causal", false))).build()));
            }
        }
        for (FeedForward.Kind k : FeedForward.Kind.values()) {
            cases.add(new Case("ffn " + k, (k.routed() ? BERT : LLAMA).toBuilder().ffnKind(k).build()));
        }
        for (NormKind k : NormKind.values()) {
            cases.add(new Case("norm " + k, LLAMA.toBuilder().normKind(k).build()));
        }
        for (ModelConfig.Positional k : ModelConfig.Positional.values()) {
            cases.add(new Case("pos " + k, LLAMA.toBuilder().positional(k).build()));
        }
        return cases.stream();
    }

    /** The causal cases, which decode token by token. */
    static Stream<Case> decoderCases() {
        return cases().filter(c -> c.config().architecture() != ModelConfig.Architecture.BERT);
    }

    /** The logits (B, 1, V) of the last of a 6-token prompt and two single tokens decoded with the model's caches on {@code device}. */
    static float[] decode(ModelConfig c, Device device) {
        LanguageModel m = Models.create(c, new Generator(3));
        m.module().to(device);
        Tensor ids = Tensor.randint(new Generator(9), 0, c.vocabSize(), DType.I64, 2, 8).to(device);
        try (var noGrad = GradMode.noGrad()) {
            List<KvCache> caches = m.newCaches(2, c.contextLength());
            m.forward(ids.narrow(1, 0, 6).contiguous(), null, caches);
            m.forward(ids.narrow(1, 6, 1).contiguous(), null, caches);
            Tensor logits = m.forward(ids.narrow(1, 7, 1).contiguous(), null, caches).data();
            assertEquals(device, logits.device(), c + ": the logits left the device");
            return logits.to(DType.F32).toFloatArray();
        }
    }

    /** The loss and every updated parameter (as F32 host arrays, by name) after one seeded AdamW step on {@code device}. */
    record Step(float loss, Map<String, float[]> weights) {}

    static Step step(ModelConfig c, Device device, boolean packed) {
        LanguageModel m = Models.create(c, new Generator(3));
        m.module().to(device);
        Generator g = new Generator(9);
        int t = c.contextLength();
        Tensor x = Tensor.randint(g, 0, c.vocabSize(), DType.I64, 2, t).to(device);
        Tensor y = Tensor.randint(g, 0, c.vocabSize(), DType.I64, 2, t).to(device);
        AttentionMask mask = null;
        if (packed) { // three documents per row, of lengths 5, 6 and the rest
            long[] ids = new long[2 * t];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i % t < 5 ? 0 : i % t < 11 ? 1 : 2;
            }
            mask = new AttentionMask(c.architecture() != ModelConfig.Architecture.BERT, Tensor.of(ids, 2, t).to(device), 0);
        }
        AdamW opt = new AdamW(ParamGroup.all(m.module().parameters()), 1e-3, 0.9, 0.95, 1e-8, 0.1);
        Variable loss = Losses.crossEntropyFused(m.forward(x, mask), y);
        loss.backward();
        opt.step();
        assertEquals(device, loss.data().device(), c + ": the loss left the device");
        Map<String, float[]> weights = new LinkedHashMap<>();
        m.module().namedParameters().forEach((name, p) -> {
            assertEquals(device, p.data().device(), name + " left the device");
            weights.put(name, p.data().to(DType.F32).toFloatArray());
        });
        return new Step((float) loss.item(), weights);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneStepOnTheSimulatedDeviceIsTheCpusBitForBit(Case c) {
        assertSameStep(c, step(c.config(), Device.CPU, false), step(c.config(), Device.SIM, false));
    }

    /**
     * The same with packed documents (a document mask, Llama 3 style): document ids on the device, and
     * the per-document masks, carries and restarts built from them. Kinds that refuse a document mask
     * (their mixing spans the whole row) refuse it on sim with the CPU's message.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void packedDocumentsOnTheSimulatedDeviceAreTheCpusBitForBit(Case c) {
        Step cpu;
        try {
            cpu = step(c.config(), Device.CPU, true);
        } catch (IllegalArgumentException refused) {
            IllegalArgumentException onSim = assertThrows(IllegalArgumentException.class, () -> step(c.config(), Device.SIM, true), c.name());
            assertEquals(refused.getMessage(), onSim.getMessage(), c.name());
            return;
        }
        assertSameStep(c, cpu, step(c.config(), Device.SIM, true));
    }

    private static void assertSameStep(Case c, Step cpu, Step sim) {
        assertEquals(Float.floatToRawIntBits(cpu.loss()), Float.floatToRawIntBits(sim.loss()),
                c.name() + ": loss on sim " + sim.loss() + " != cpu " + cpu.loss());
        assertEquals(cpu.weights().keySet(), sim.weights().keySet(), c.name() + ": parameter names");
        cpu.weights().forEach((name, w) -> assertArrayEquals(w, sim.weights().get(name), c.name() + ": updated " + name + " differs on sim"));
    }

    /** Recurrent states and KV caches live on the model's device too: cached decoding on sim gives the CPU's logits bit for bit. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("decoderCases")
    void decodingWithCachesOnTheSimulatedDeviceIsTheCpusBitForBit(Case c) {
        assertArrayEquals(decode(c.config(), Device.CPU), decode(c.config(), Device.SIM), c.name() + ": decoded logits differ on sim");
    }
}
