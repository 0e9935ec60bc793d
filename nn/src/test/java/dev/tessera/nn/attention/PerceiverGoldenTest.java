package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B23's cross step against transformers' PerceiverSelfAttention with is_cross_attention=True in
 * float64 (fixture by {@code nn/tools/golden_b23_perceiver.py}): the latents (hidden_states) and
 * the inputs go through Tessera's LayerNorm (ε = 1e-5, torch's default) and the query/key/value
 * projections here, {@link PerceiverAttention#cross} does the attention; output and the gradients
 * of both inputs and of every weight by Hugging Face name. Head sizes differ for queries/keys (4)
 * and values (6), as the reference allows.
 */
class PerceiverGoldenTest {
    private static final double TOL = 1e-10;
    private static final int HEADS = 2;

    private static Variable heads(Variable x) { // (B, L, C) → (B, H, L, C / H)
        return x.reshape(x.size(0), x.size(1), HEADS, x.size(2) / HEADS).transpose(1, 2);
    }

    @Test
    void matchesPerceiverSelfAttentionCrossAttention() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/b23/perceiver.safetensors").toURI()));
        Map<String, Variable> params = new HashMap<>();
        LayerNorm[] norms = new LayerNorm[2];
        for (int i = 0; i < 2; i++) {
            String prefix = "layernorm" + (i + 1) + ".";
            norms[i] = new LayerNorm(g.get(prefix + "weight").size(0), 1e-5, true, true, DType.F64);
            norms[i].namedParameters().forEach((name, p) -> {
                p.data().copyFromInPlace(g.get(prefix + name));
                params.put(prefix + name, p);
            });
        }
        for (String name : new String[] {"query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias"}) {
            params.put(name, Variable.of(g.get(name), true));
        }
        assertEquals(10, params.size());
        Variable latents = Variable.of(g.get("hidden_states"), true); // (B, N, q_dim)
        Variable inputs = Variable.of(g.get("inputs"), true); // (B, T, kv_dim)
        Variable z = norms[0].forward(latents);
        Variable x = norms[1].forward(inputs);
        Variable q = heads(z.matmul(params.get("query.weight").mT()).add(params.get("query.bias"))); // (B, H, N, 4)
        Variable k = heads(x.matmul(params.get("key.weight").mT()).add(params.get("key.bias"))); // (B, H, T, 4)
        Variable v = heads(x.matmul(params.get("value.weight").mT()).add(params.get("value.bias"))); // (B, H, T, 6)
        Variable out = PerceiverAttention.cross(q, k, v).transpose(1, 2).reshape(latents.size(0), latents.size(1), -1); // (B, N, 12)
        AttentionReference.assertClose(g.get("output"), out.data(), TOL);
        out.backward(g.get("grad_output"));
        AttentionReference.assertClose(g.get("grad.hidden_states"), latents.grad(), TOL);
        AttentionReference.assertClose(g.get("grad.inputs"), inputs.grad(), TOL);
        params.forEach((name, p) -> AttentionReference.assertClose(g.get("grad." + name), p.grad(), TOL));
    }
}
