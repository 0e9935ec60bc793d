package dev.tessera.models.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.autograd.Variable;
import dev.tessera.gpu.CudaTensorBackend;
import dev.tessera.models.LanguageModel;
import dev.tessera.models.ModelConfig;
import dev.tessera.models.Models;
import dev.tessera.models.Preset;
import dev.tessera.models.data.PackedDataset;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.SoftmaxAttention;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.optim.AdamW;
import dev.tessera.nn.optim.GradClip;
import dev.tessera.nn.optim.ParamGroup;
import dev.tessera.tensor.Backend;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SimulatedBackend;
import dev.tessera.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The op census: every (op, attributes) pair that reaches a device backend when the presets train,
 * recorded on the simulated device by {@link RecordingBackend} over three workloads — one training
 * step of the tiny preset (the trainer's step: next-token loss under the document mask, backward,
 * global-norm clipping, AdamW), one masked-LM step of a small BERT encoder, and one forward and
 * backward of the fused flash attention kernel ({@code -Dtessera.attention.flash}'s path). The
 * result is committed in the gpu module, where the CUDA backend's coverage is measured against it;
 * this test fails when the committed file no longer matches what the code dispatches, so the file
 * stays true. Regenerate it with {@code -Dtessera.census.write=true}. The recorded calls also show
 * that the CUDA backend reads the fused ops' settings (ε, RoPE convention, targets, optimizer state)
 * from the real {@code nn} objects, which the gpu module cannot import.
 */
class OpCensusTest {
    static final Path CENSUS = Path.of(System.getProperty("basedir", "."))
            .resolve("../gpu/src/test/resources/dev/tessera/gpu/op-census.txt").normalize();

    private static final String HEADER = """
            # The ops a device backend must run for the presets to train: "<op> <attributes>", one per line, sorted.
            # Attributes: an enum by its constant, none as -, anything else by its class's simple name.
            # Written by models/src/test/java/dev/tessera/models/train/OpCensusTest.java (tiny preset training step, BERT masked-LM
            # forward+backward, flash attention forward+backward on the recording simulated device); regenerate with
            #   ./mvnw -B -ntp -o -pl models -am verify -Dtest=OpCensusTest -Dsurefire.failIfNoSpecifiedTests=false -Dtessera.census.write=true
            """;

    private static RecordingBackend recorder;

    @BeforeAll
    static void runTheWorkloads() {
        recorder = record();
    }

    @Test
    void theCommittedCensusIsWhatThePresetsDispatch() throws IOException {
        SortedSet<String> recorded = recorder.ops();
        for (String op : List.of("AdamW.step AdamW", "rms_norm RmsNormFunction", "rope.backward RopeFunction",
                "cross_entropy CrossEntropyFunction", "flash_attention.backward FlashAttentionFunction", "sum_squares_f64 -")) {
            assertTrue(recorded.contains(op), "op census: the workloads did not dispatch '" + op + "' to the device: " + recorded);
        }
        if (Boolean.getBoolean("tessera.census.write")) {
            Files.createDirectories(CENSUS.getParent());
            Files.writeString(CENSUS, HEADER + String.join("\n", recorded) + "\n");
        }
        SortedSet<String> committed = read(CENSUS);
        if (!committed.equals(recorded)) {
            SortedSet<String> added = new TreeSet<>(recorded);
            added.removeAll(committed);
            SortedSet<String> gone = new TreeSet<>(committed);
            gone.removeAll(recorded);
            fail("op census: " + CENSUS + " is stale: now dispatched " + added + ", no longer dispatched " + gone
                    + " (regenerate with -Dtessera.census.write=true)");
        }
    }

    /** The census lines of {@code file} (comments and blank lines left out). */
    static SortedSet<String> read(Path file) throws IOException {
        SortedSet<String> lines = new TreeSet<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                lines.add(line.strip());
            }
        }
        return lines;
    }

    private static Map<String, Object> settings(String key) {
        Backend.OpCall call = recorder.first(key);
        assertNotNull(call, key + " was not dispatched");
        return CudaTensorBackend.settings(call.name(), call.attributes(), call.inputs());
    }

    /** The CUDA kernels read ε, conventions, targets and optimizer state from nn's objects reflectively: these are the real ones. */
    @Test
    void theCudaKernelsReadTheFusedOpsSettingsFromTheRealObjects() {
        assertEquals(Map.of("eps", 1e-5), settings("rms_norm RmsNormFunction"), "the tiny preset's RMSNorm");
        assertEquals(Map.of("halfSplit", false), settings("rope.backward RopeFunction"), "the tiny preset's interleaved RoPE");
        Map<String, Object> ce = settings("cross_entropy CrossEntropyFunction");
        assertEquals(2L * Preset.of("tiny").sequenceLength(), ce.get("rows"));
        assertEquals((long) Losses.IGNORE_INDEX, ce.get("ignoreIndex"));
        assertEquals(0.0, ce.get("smoothing"));
        for (String key : List.of("causal_block_attention CausalBlockAttention", "causal_block_attention.backward CausalBlockAttention")) {
            assertEquals(Map.of("alpha", 0.125, "causal", true, "queryOffset", 0, "documentMask", true), settings(key),
                    "the trainer's causal document mask over heads of 64: " + key);
        }
        for (String key : List.of("flash_attention FlashAttentionFunction", "flash_attention.backward FlashAttentionFunction")) {
            Map<String, Object> flash = settings(key);
            assertEquals(1 / Math.sqrt(8), (Double) flash.get("alpha"), 1e-15);
            assertEquals(List.of(true, 0, false), List.of(flash.get("causal"), flash.get("queryOffset"), flash.get("documentMask")), key);
        }
        // the encoder's attention: heads of 16 under its padding-free document mask, a (B, 1, T, S) BOOL matrix
        Map<String, Object> masked = settings("masked_softmax MaskedSoftmaxFunction");
        assertEquals(0.25, (Double) masked.get("scale"), 1e-15);
        assertEquals(4, ((List<?>) masked.get("mask")).size(), "the mask's rank");
        assertEquals(masked, settings("masked_softmax.backward MaskedSoftmaxFunction"));
        assertEquals(Map.of("step", 1L, "lr", 3e-4, "weightDecay", 0.1, "beta1", 0.9, "beta2", 0.95, "eps", 1e-8), settings("AdamW.step AdamW"));
        assertEquals(Map.of(), settings("matmul -"));
    }

    /** Runs the three workloads on the recording device and returns it; the simulated backend is restored after. */
    private static RecordingBackend record() {
        RecordingBackend r = new RecordingBackend();
        Dispatch.register(r);
        try {
            tinyPresetStep();
            encoderStep();
            flashAttention();
        } finally {
            Dispatch.register(SimulatedBackend.INSTANCE);
        }
        return r;
    }

    /** The trainer's step on the tiny preset, at batch 2 (the op set does not depend on B; the preset's 8 only costs time). */
    private static void tinyPresetStep() {
        ModelConfig config = Preset.of("tiny").config();
        LanguageModel model = Models.create(config, new Generator(0));
        model.module().to(Device.SIM);
        PackedDataset.Batch batch = SimulatedDeviceTrainingTest.data(config.contextLength()).batch(0, 2).to(Device.SIM);
        step(model, Objective.nextToken(0).loss(model, batch, 0));
    }

    /**
     * The masked-LM loss of a small BERT (the encoder training test's config: post-norm LayerNorm,
     * GELU MLP, learned positions) and its backward. Clipping and AdamW are the tiny step's: they
     * cannot run here yet, because the gradient of a narrowed parameter (the position table) comes
     * back on the CPU (autograd's ViewFunctions.writeBackView scatters into CPU zeros).
     */
    private static void encoderStep() {
        ModelConfig config = ModelConfig.bert(257, 16, 1, 32, 2, 64);
        LanguageModel model = Models.create(config, new Generator(1));
        model.module().to(Device.SIM);
        PackedDataset.Batch batch = SimulatedDeviceTrainingTest.data(config.contextLength()).batch(0, 2).to(Device.SIM);
        MaskedLm.of(config, 255, 11).loss(model, batch, 0).backward();
    }

    /** Backward, clipping and AdamW with the trainer's and the benchmark's settings. */
    private static void step(LanguageModel model, Variable loss) {
        AdamW opt = new AdamW(ParamGroup.all(model.module().parameters()), 3e-4, 0.9, 0.95, 1e-8, 0.1);
        loss.backward();
        GradClip.clipGlobalNorm(opt.params(), 1.0);
        opt.step();
        opt.zeroGrad();
    }

    /** Causal attention longer than the causal block (128 rows), through the fused kernel, forward and backward. */
    private static void flashAttention() {
        Generator g = new Generator(2);
        List<Variable> qkv = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            qkv.add(Variable.of(Tensor.randn(g, DType.F32, 1, 2, 130, 8).to(Device.SIM), true));
        }
        Variable out = new SoftmaxAttention().withFlash(true).attend(qkv.get(0), qkv.get(1), qkv.get(2), new AttentionMask(true, null, 0));
        out.sum().backward();
    }
}
