package dev.tessera.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.SafeTensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * I3 against transformers (models/tools/golden_i3_bert.py): a tiny {@code BertForMaskedLM} and
 * {@code ElectraForPreTraining} in F64, loaded by Hugging Face name; logits at every attended
 * position, the loss and every parameter gradient must match. Padding query rows are left out of
 * the logits comparison only (see {@link Bert}: they see other keys than in transformers and reach
 * nothing).
 */
class EncoderGoldenTest {
    private static final Path DIR = Path.of("src", "test", "resources", "golden", "i3");
    private static final double TOL = 1e-9; // F64 on both sides

    /** The fixture's sizes: V 24, T ≤ 16, L 2, C 16, NH 2, FF 24, F64, no dropout. */
    static ModelConfig config() {
        return ModelConfig.bert(24, 16, 2, 16, 2, 24).toBuilder().dtype(DType.F64).build();
    }

    @Test
    void bertForMaskedLmMatchesTransformers() throws IOException {
        Map<String, Tensor> f = SafeTensors.read(DIR.resolve("bert.safetensors"));
        Bert model = new Bert(config(), new Generator(0));
        model.loadHuggingFace(weights(f, model));
        Variable logits = model.forward(f.get("input_ids"), f.get("token_type_ids"), Bert.paddingMask(f.get("attention_mask")));
        assertClose("bert logits", attended(logits.data(), f), attended(f.get("logits"), f));
        Variable loss = Losses.crossEntropy(logits, f.get("labels"));
        loss.backward();
        assertEquals(f.get("loss").toDoubleArray()[0], loss.item(), TOL, "bert loss");
        assertEveryGradient("bert", model, f);
    }

    @Test
    void electraDiscriminatorMatchesTransformers() throws IOException {
        Map<String, Tensor> f = SafeTensors.read(DIR.resolve("electra.safetensors"));
        Electra model = new Electra(config(), new Generator(0));
        model.loadStateDict(weights(f, model), true);
        Variable logits = model.forward(f.get("input_ids"), f.get("token_type_ids"), Bert.paddingMask(f.get("attention_mask")));
        assertClose("electra logits", attended(logits.data(), f), attended(f.get("logits"), f));
        Variable loss = Electra.replacedTokenLoss(logits, f.get("labels"), f.get("attention_mask"));
        loss.backward();
        assertEquals(f.get("loss").toDoubleArray()[0], loss.item(), TOL, "electra loss");
        assertEveryGradient("electra", model, f);
    }

    /** The fixture's parameters, which must be exactly the model's names. */
    private static Map<String, Tensor> weights(Map<String, Tensor> f, Module model) {
        Map<String, Tensor> w = new TreeMap<>();
        f.forEach((k, v) -> {
            if (f.containsKey("grad." + k)) {
                w.put(k, v);
            }
        });
        assertEquals(new TreeSet<>(model.namedParameters().keySet()), w.keySet(), "parameter names differ from Hugging Face's");
        return w;
    }

    private static void assertEveryGradient(String who, Module model, Map<String, Tensor> f) {
        int compared = 0;
        for (var e : model.namedParameters().entrySet()) {
            Tensor want = f.get("grad." + e.getKey());
            Tensor got = e.getValue().grad();
            assertTrue(got != null, who + ": no gradient for " + e.getKey());
            assertClose(who + " grad of " + e.getKey(), got, want);
            compared++;
        }
        assertEquals(model.namedParameters().size(), compared);
    }

    /** The rows of (B, T, …) whose attention_mask is 1, flattened. */
    private static double[] attended(Tensor x, Map<String, Tensor> f) {
        long[] mask = f.get("attention_mask").toLongArray();
        double[] all = x.contiguous().toDoubleArray();
        int row = all.length / mask.length;
        return java.util.stream.IntStream.range(0, mask.length).filter(i -> mask[i] == 1)
                .flatMap(i -> java.util.stream.IntStream.range(i * row, (i + 1) * row)).mapToDouble(j -> all[j]).toArray();
    }

    private static void assertClose(String what, double[] got, double[] want) {
        assertEquals(want.length, got.length, what + ": sizes");
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            worst = Math.max(worst, Math.abs(got[i] - want[i]));
        }
        assertTrue(worst <= TOL, what + " differs from transformers by " + worst);
    }

    private static void assertClose(String what, Tensor got, Tensor want) {
        assertTrue(java.util.Arrays.equals(got.shape(), want.shape()), what + ": shapes " + java.util.Arrays.toString(got.shape()) + " vs "
                + java.util.Arrays.toString(want.shape()));
        assertClose(what, got.contiguous().toDoubleArray(), want.contiguous().toDoubleArray());
    }
}
