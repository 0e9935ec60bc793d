package dev.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Autocast;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.loss.Losses;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * G9 autocast against torch.autocast('cpu') (fixture by {@code nn/tools/golden_g9_amp.py}): a tiny
 * MLP y = fc2(tanh(fc1(x))) with F32 master weights and a cross-entropy loss. The logits and the
 * weight gradients are low-precision values in both: the logits and fc2's gradient must be the very
 * same values (F32 arithmetic would not give them), fc1's close.
 */
class AutocastGoldenTest {
    private static Map<String, Tensor> golden() throws Exception {
        return SafeTensors.read(Path.of(AutocastGoldenTest.class.getResource("/golden/g9/amp.safetensors").toURI()));
    }

    @ParameterizedTest
    @CsvSource({"bf16, BF16", "fp16, F16"})
    void tinyMlpMatchesTorchAutocast(String prefix, DType low) throws Exception {
        Map<String, Tensor> g = golden();
        Linear fc1 = new Linear(8, 16, true, g.get("fc1.weight"));
        Linear fc2 = new Linear(16, 5, true, g.get("fc2.weight"));
        fc1.bias().data().copyFromInPlace(g.get("fc1.bias"));
        fc2.bias().data().copyFromInPlace(g.get("fc2.bias"));
        Variable out;
        Variable loss;
        try (var s = Autocast.enable(low)) {
            out = fc2.forward(fc1.forward(Variable.of(g.get("x"), false)).tanh()); // (N, 5)
            loss = Losses.crossEntropy(out, g.get("targets"));
        }
        assertEquals(DType.F32, out.dtype());
        assertEquals(DType.F32, loss.dtype(), "losses stay F32");
        loss.backward();
        double ulp = low == DType.BF16 ? 0x1p-8 : 0x1p-11;
        assertLowValues(prefix + ".out", g.get(prefix + ".out"), out.data(), low, ulp, 0, 1.0);
        assertEquals(g.get(prefix + ".loss").item(), loss.item(), 4 * ulp * Math.abs(loss.item()), prefix + ".loss");
        // fc1's gradient passes tanh's backward, 1 − t², which PyTorch runs on the rounded t (a few
        // percent apart where t is near ±1) and here runs in F32: low values, close to torch's
        assertLowValues(prefix + ".grad.fc1.weight", g.get(prefix + ".grad.fc1.weight"), fc1.weight().grad(), low, ulp, 0, 0.0);
        assertLowValues(prefix + ".grad.fc2.weight", g.get(prefix + ".grad.fc2.weight"), fc2.weight().grad(), low, ulp, 0, 1.0);
        // bias gradients are F32 sums here (PyTorch rounds its bf16 sum): close, not equal
        for (String name : new String[] {"fc1.bias", "fc2.bias"}) {
            Tensor grad = (name.startsWith("fc1") ? fc1 : fc2).bias().grad();
            assertEquals(DType.F32, grad.dtype());
            Ref.assertClose(g.get(prefix + ".grad." + name), grad, 4 * ulp);
        }
        assertEquals(DType.F32, fc1.weight().grad().dtype(), "master weights get F32 gradients");
    }

    /**
     * Every element of {@code actual} is a {@code low} value within {@code ulps} of its units in the
     * last place of {@code expected} (ulps 0: within 16 units of the largest element), and at least
     * {@code sameShare} of them equal it exactly.
     */
    private static void assertLowValues(String what, Tensor expected, Tensor actual, DType low, double ulp, int ulps, double sameShare) {
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double[] asLow = actual.to(low).to(DType.F64).toDoubleArray();
        assertEquals(e.length, a.length, what + ": length");
        double max = java.util.Arrays.stream(e).map(Math::abs).max().orElse(0);
        int same = 0;
        for (int i = 0; i < e.length; i++) {
            assertEquals(asLow[i], a[i], 0.0, what + "[" + i + "] is not a " + low + " value");
            double unit = Math.max(Math.abs(e[i]), Math.abs(a[i])) * ulp;
            assertTrue(ulps == 0 ? Math.abs(a[i] - e[i]) <= 16 * ulp * max : Math.abs(a[i] - e[i]) <= ulps * unit,
                    what + "[" + i + "]: " + a[i] + " vs torch " + e[i]);
            same += a[i] == e[i] ? 1 : 0;
        }
        assertTrue(same >= sameShare * e.length, what + ": only " + same + " of " + e.length + " equal torch's exactly");
    }
}
