package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * E22 against flash-linear-attention's {@code LongConvolution} ({@code fft_conv} + x): the fixture
 * written by {@code nn/tools/golden_e22_long_conv.py} holds the filter, input, output weight, output
 * and the gradients of input and filter in F64. fla has no regularisers and a fixed skip, so the
 * module runs with smooth = 0, λ = 0 and D = 1.
 */
class LongConvGoldenTest {

    @Test
    void matchesFlaLongConvolution() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e22/long_conv.safetensors").toURI()));
        Tensor x = g.get("x");
        int k = g.get("filter").size(1);
        LongConv m = new LongConv(x.size(2), new LongConv.Options(k, 0, 0), DType.F64, new Generator(0));
        m.stateDict().get("filter").copyFromInPlace(g.get("filter"));
        Variable xv = Variable.of(x.copy(), true);
        Variable out = m.forward(xv, null, null);
        Ref.assertClose(g.get("out"), out.data(), 1e-12);
        out.mul(Variable.constant(g.get("out_weight"))).sum().backward();
        Ref.assertClose(g.get("grad.x"), xv.grad(), 1e-12);
        Ref.assertClose(g.get("grad.filter"), m.namedParameters().get("filter").grad(), 1e-12);
    }
}
