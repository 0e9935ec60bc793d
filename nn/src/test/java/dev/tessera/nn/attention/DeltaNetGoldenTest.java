package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B3 DeltaNet against flash-linear-attention's plain-torch {@code delta_rule_recurrence}, written by
 * {@code nn/tools/make_b3_golden.py} (which L2-normalises q, k and computes β = σ(w_βᵀk + b_β)
 * as Tessera does before calling fla). fla departs from the papers in one named way: it multiplies
 * q by D^−½, so its output and every gradient of L = Σ out ⊙ w are that scale times ours; the test
 * divides them by the scale the script records. The chunkwise form is compared with a partial last
 * chunk (C = 4) and as one chunk (C = 16).
 */
class DeltaNetGoldenTest {
    private static final double TOL = 2e-5; // the fixture is F32: fla runs its recurrence in float32

    @Test
    void matchesFlaDeltaRuleRecurrence() throws Exception {
        Path file = Path.of(DeltaNetGoldenTest.class.getResource("/golden/b3_deltanet/fixture.safetensors").toURI());
        Map<String, Tensor> f = SafeTensors.read(file);
        double scale = Double.parseDouble(SafeTensors.readMetadata(file).get("scale"));
        assertEquals(1 / Math.sqrt(f.get("q").size(3)), scale, 1e-15);
        for (int chunk : new int[] {4, 16}) {
            String[] names = {"q", "k", "v", "beta_weight", "beta_bias"};
            Variable[] in = new Variable[names.length];
            for (int i = 0; i < names.length; i++) {
                in[i] = Variable.of(f.get(names[i]).to(DType.F64), true);
            }
            Variable out = DeltaNetAttention.attend(in[0], in[1], in[2], in[3], in[4], AttentionMask.causalOnly(), chunk);
            AttentionReference.assertClose(f.get("out").to(DType.F64).div(scale), out.data(), TOL);
            out.mul(Variable.constant(f.get("out_weight").to(DType.F64))).sum().backward();
            for (int i = 0; i < names.length; i++) {
                AttentionReference.assertClose(f.get("grad." + names[i]).to(DType.F64).div(scale), in[i].grad(), TOL);
            }
        }
    }
}
