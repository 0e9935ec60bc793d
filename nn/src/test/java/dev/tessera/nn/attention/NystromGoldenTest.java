package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * B17 against transformers' NystromformerSelfAttention in float64 (fixture by
 * {@code nn/tools/golden_b17_nystrom.py}): the query/key/value projections with biases are done
 * here, the kernel does the rest; output and the gradients of the input and of every weight,
 * conv.weight included, by Hugging Face name. Case "nystrom": 4 landmarks of T = 12, conv skip 3;
 * case "exact": 12 landmarks, the exact-softmax branch.
 */
class NystromGoldenTest {
    private static final double TOL = 1e-10;

    @Test
    void matchesNystromformerSelfAttention() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/b17/nystrom.safetensors").toURI()));
        check(g, "nystrom", new NystromAttention.Options(4, 6, 3));
        check(g, "exact", new NystromAttention.Options(12, 6, 0));
    }

    private static void check(Map<String, Tensor> g, String c, NystromAttention.Options options) {
        Tensor x = g.get(c + ".hidden_states"); // (B, T, C)
        int b = x.size(0), t = x.size(1), heads = 2, hs = x.size(2) / heads;
        NystromAttention kernel = new NystromAttention(options, heads, DType.F64, new Generator(0));
        Map<String, Variable> params = new HashMap<>();
        for (String name : new String[] {"query.weight", "query.bias", "key.weight", "key.bias", "value.weight", "value.bias"}) {
            params.put(name, Variable.of(g.get(c + "." + name), true));
        }
        kernel.namedParameters().forEach((name, p) -> {
            p.data().copyFromInPlace(g.get(c + "." + name));
            params.put(name, p);
        });
        assertEquals(options.convKernel() > 0 ? 7 : 6, params.size());
        Variable in = Variable.of(x, true);
        Variable[] qkv = new Variable[3];
        String[] proj = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            qkv[i] = in.matmul(params.get(proj[i] + ".weight").mT()).add(params.get(proj[i] + ".bias")).reshape(b, t, heads, hs)
                    .transpose(1, 2); // (B, H, T, HS)
        }
        Variable out = kernel.attend(qkv[0], qkv[1], qkv[2], AttentionMask.NONE).transpose(1, 2).reshape(b, t, heads * hs); // (B, T, C)
        AttentionReference.assertClose(g.get(c + ".output"), out.data(), TOL);
        out.backward(g.get(c + ".grad_output"));
        AttentionReference.assertClose(g.get(c + ".grad.hidden_states"), in.grad(), TOL);
        params.forEach((name, p) -> AttentionReference.assertClose(g.get(c + ".grad." + name), p.grad(), TOL));
    }
}
