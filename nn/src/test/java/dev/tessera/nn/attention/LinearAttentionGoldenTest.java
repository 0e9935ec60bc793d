package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B3 against flash-linear-attention's plain-torch reference {@code naive_recurrent_linear_attn}
 * (normalize=True, elu+1 applied by the caller), written by {@code nn/tools/make_b3_golden.py}.
 * fla departs from the paper in two named ways: it multiplies φ(q) by D^−½, which cancels in the
 * ratio, and adds ε = 1e−10 to the denominator, which the test undoes with the denominator the
 * script records: out_paper = out_fla · (den + ε) / den. The gradients carry the ε too, as a
 * relative change of at most ε / min(den), checked below to be far under the F32 tolerance.
 */
class LinearAttentionGoldenTest {
    private static final double FLA_EPS = 1e-10;
    private static final double TOL = 2e-5; // the fixture is F32: fla runs its recurrence in float32

    @Test
    void matchesFlaNaiveRecurrentLinearAttention() throws Exception {
        Path file = Path.of(LinearAttentionGoldenTest.class.getResource("/golden/b3_linear_attention/fixture.safetensors").toURI());
        Map<String, Tensor> f = SafeTensors.read(file);
        Tensor den = f.get("fla_denominator").to(DType.F64); // (B, H, T, 1)
        double minDen = java.util.Arrays.stream(den.toDoubleArray()).min().orElseThrow();
        assertTrue(FLA_EPS / minDen < 1e-8, "fla's eps is not negligible against its smallest denominator " + minDen);
        Tensor paperOut = f.get("out").to(DType.F64).mul(den.add(FLA_EPS)).div(den);

        Variable q = Variable.of(f.get("q").to(DType.F64), true);
        Variable k = Variable.of(f.get("k").to(DType.F64), true);
        Variable v = Variable.of(f.get("v").to(DType.F64), true);
        Variable out = new LinearAttention().attend(q, k, v, AttentionMask.causalOnly());
        AttentionReference.assertClose(paperOut, out.data(), TOL);
        out.mul(Variable.constant(f.get("out_weight").to(DType.F64))).sum().backward();
        AttentionReference.assertClose(f.get("grad.q"), q.grad(), TOL);
        AttentionReference.assertClose(f.get("grad.k"), k.grad(), TOL);
        AttentionReference.assertClose(f.get("grad.v"), v.grad(), TOL);
    }
}
