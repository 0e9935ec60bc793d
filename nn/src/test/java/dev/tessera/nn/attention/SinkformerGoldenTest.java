package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B21 Sinkformer's Sinkhorn step against transformers' SuperGlue {@code log_sinkhorn_iterations}
 * with uniform marginals, in float64 (fixture by {@code nn/tools/golden_b21_sinkhorn.py}): 3 of its
 * iterations (row + column each) are 6 normalisations here; the log plan, the attention output and
 * the gradients of q, k and v.
 */
class SinkformerGoldenTest {
    private static final double TOL = 1e-10;

    @Test
    void matchesSuperGlueLogSinkhorn() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/b21/sinkhorn.safetensors").toURI());
        Map<String, Tensor> g = SafeTensors.read(file);
        int iterations = Integer.parseInt(SafeTensors.readMetadata(file).get("superglue_iterations"));
        assertEquals(3, iterations);
        Variable q = Variable.of(g.get("q"), true), k = Variable.of(g.get("k"), true), v = Variable.of(g.get("v"), true);
        Variable scores = q.matmul(k.mT()).mul(1 / Math.sqrt(q.size(3)));
        AttentionReference.assertClose(g.get("log_p"), SinkformerAttention.logSinkhorn(scores, 2 * iterations).data(), TOL);
        Variable out = new SinkformerAttention(new SinkformerAttention.Options(2 * iterations)).attend(q, k, v, AttentionMask.NONE);
        AttentionReference.assertClose(g.get("out"), out.data(), TOL);
        out.backward(g.get("grad_output"));
        AttentionReference.assertClose(g.get("grad.q"), q.grad(), TOL);
        AttentionReference.assertClose(g.get("grad.k"), k.grad(), TOL);
        AttentionReference.assertClose(g.get("grad.v"), v.grad(), TOL);
    }
}
