package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B11 against flash-linear-attention's plain-torch references, written by
 * {@code nn/tools/make_b11_golden.py}: {@code naive_retention} (parallel) and
 * {@code naive_recurrent_simple_gla} / {@code naive_chunk_simple_gla} with g = log γ_h (recurrent,
 * chunkwise with C = 4 over T = 9). Each of Tessera's three forms is held to its fla counterpart:
 * the outputs, and the gradients of L = Σ out ⊙ w (the recurrent step runs without a graph, so its
 * fla gradients are compared with the parallel form's, which is the same function).
 */
class RetentionGoldenTest {
    private static final double TOL = 2e-5; // the fixture is F32: fla computes in float32

    @Test
    void allThreeFormsMatchFla() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/b11_retention/fixture.safetensors").toURI());
        Map<String, Tensor> f = SafeTensors.read(file);
        int chunk = Integer.parseInt(SafeTensors.readMetadata(file).get("chunk"));
        Tensor q = f.get("q").to(DType.F64), k = f.get("k").to(DType.F64), v = f.get("v").to(DType.F64);
        RetentionAttention kernel = new RetentionAttention(q.size(1));
        for (String form : new String[] {"parallel", "chunk", "recurrent"}) {
            Variable qv = Variable.of(q, true), kv = Variable.of(k, true), vv = Variable.of(v, true);
            Variable out = form.equals("chunk") ? kernel.chunkwise(qv, kv, vv, AttentionMask.causalOnly(), chunk)
                    : kernel.parallel(qv, kv, vv, AttentionMask.causalOnly());
            if (form.equals("recurrent")) {
                RetentionAttention.State state = kernel.newState(q.size(0), q.size(3), v.size(3), DType.F64);
                Tensor[] steps = new Tensor[q.size(2)];
                for (int i = 0; i < steps.length; i++) {
                    steps[i] = kernel.step(state, q.narrow(2, i, 1), k.narrow(2, i, 1), v.narrow(2, i, 1));
                }
                AttentionReference.assertClose(f.get("out.recurrent").to(DType.F64), Tensor.cat(2, steps), TOL);
            }
            AttentionReference.assertClose(f.get("out." + form).to(DType.F64), out.data(), TOL);
            out.mul(Variable.constant(f.get("out_weight").to(DType.F64))).sum().backward();
            AttentionReference.assertClose(f.get("grad." + form + ".q").to(DType.F64), qv.grad(), TOL);
            AttentionReference.assertClose(f.get("grad." + form + ".k").to(DType.F64), kv.grad(), TOL);
            AttentionReference.assertClose(f.get("grad." + form + ".v").to(DType.F64), vv.grad(), TOL);
        }
    }
}
