package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B5 against transformers' MistralAttention (sdpa, sliding_window = 3, GQA 4/2 heads, RoPE) and
 * its {@code create_sliding_window_causal_mask}: the fixture written by
 * {@code nn/tools/golden_b5_sliding_window.py} holds the weights, input, output gradient, output,
 * and the gradients of the input and of every weight, in float64, by Hugging Face name.
 */
class SlidingWindowGoldenTest {
    private static final double TOL = 1e-10;

    @Test
    void matchesMistralAttention() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/b5/sliding_window.safetensors").toURI());
        Map<String, Tensor> g = SafeTensors.read(file);
        Map<String, String> meta = SafeTensors.readMetadata(file);
        int window = Integer.parseInt(meta.get("window"));
        int heads = Integer.parseInt(meta.get("heads"));
        int kvHeads = Integer.parseInt(meta.get("kv_heads"));
        int headDim = Integer.parseInt(meta.get("head_dim"));
        Tensor x = g.get("x"); // (B, T, C)
        var c = new MultiHeadAttention.Config(x.size(2), heads, kvHeads, headDim, false, RotaryEmbedding.Convention.HALF_SPLIT,
                Double.parseDouble(meta.get("rope_theta")), 32, null, 1e-6, 0, 0, DType.F64).withSlidingWindow(window);
        MultiHeadAttention mha = new MultiHeadAttention(c, new Generator(0));
        Map<String, Variable> params = mha.namedParameters();
        assertEquals(java.util.Set.of("q_proj.weight", "k_proj.weight", "v_proj.weight", "o_proj.weight"), params.keySet());
        params.forEach((name, p) -> p.data().copyFromInPlace(g.get(name)));

        // the reference's mask is ours: a query sees itself and the W − 1 keys before it
        int t = x.size(1);
        Tensor allowed = ((SlidingWindowAttention) mha.kernel()).allowed(AttentionMask.causalOnly(), 1, 0, t, t, 0, t, t);
        assertEquals(Arrays.toString(g.get("allowed").toLongArray()), Arrays.toString(allowed.toLongArray()));

        Variable in = Variable.of(x, true);
        Variable out = mha.forward(in, AttentionMask.causalOnly());
        AttentionReference.assertClose(g.get("out"), out.data(), TOL);
        out.backward(g.get("grad_output"));
        AttentionReference.assertClose(g.get("grad.x"), in.grad(), TOL);
        params.forEach((name, p) -> AttentionReference.assertClose(g.get("grad." + name), p.grad(), TOL));
    }
}
