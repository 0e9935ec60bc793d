package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B6's GPT-3 alternation against transformers' GPTNeoSelfAttention (attention_types global, local;
 * window_size 3): the fixture written by {@code nn/tools/golden_b6_alternating.py} holds per-head
 * q, k, v, an output gradient, and for layers 0 (global) and 1 (local) the output, the gradients of
 * q, k and v, and the reference's allowed-key matrix, all in float64. GPT-Neo does not scale by
 * 1/√D, so the script feeds it q/√D; the kernel built for each layer by the ALTERNATING kind must match.
 */
class SparseTransformerGoldenTest {
    private static final double TOL = 1e-12;

    @Test
    void matchesGptNeoGlobalAndLocalLayers() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/b6/alternating.safetensors").toURI());
        Map<String, Tensor> g = SafeTensors.read(file);
        int window = Integer.parseInt(SafeTensors.readMetadata(file).get("window"));
        Tensor q = g.get("q"); // (B, H, T, D)
        int t = q.size(2);
        for (int layer = 0; layer < 2; layer++) {
            AttentionKernel dense = new SoftmaxAttention();
            AttentionKernel kernel = SparseTransformerAttention.alternating(layer, window, dense);
            Tensor allowed = layer == 0 ? AttentionMask.causalOnly().allowedMatrix(1, t, t)
                    : ((SlidingWindowAttention) kernel).allowed(AttentionMask.causalOnly(), 1, 0, t, t, 0, t, t);
            assertEquals(Arrays.toString(g.get("layer" + layer + ".allowed").toLongArray()), Arrays.toString(allowed.toLongArray()),
                    "layer " + layer + " mask");
            Variable vq = Variable.of(q, true);
            Variable vk = Variable.of(g.get("k"), true);
            Variable vv = Variable.of(g.get("v"), true);
            Variable out = kernel.attend(vq, vk, vv, AttentionMask.causalOnly());
            AttentionReference.assertClose(g.get("layer" + layer + ".out"), out.data(), TOL);
            out.backward(g.get("grad_output"));
            AttentionReference.assertClose(g.get("layer" + layer + ".grad.q"), vq.grad(), TOL);
            AttentionReference.assertClose(g.get("layer" + layer + ".grad.k"), vk.grad(), TOL);
            AttentionReference.assertClose(g.get("layer" + layer + ".grad.v"), vv.grad(), TOL);
        }
    }
}
