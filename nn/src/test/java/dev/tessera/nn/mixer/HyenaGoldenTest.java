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
 * E9's implicit filter and filter convolution against flash-linear-attention's
 * {@code ImplicitLongConvolution}: the fixture written by {@code nn/tools/golden_e9_hyena_filter.py}
 * holds fla's MLP weights, the input, the filter, the output fft_conv(x, h) + x and the gradients of
 * input and MLP weights, in F64. fla's filter is Hyena's with ReLU, depth 0 and no decay window, and
 * its skip is D = 1; the gating recursion is paper only (HyenaTest checks it against a naive loop).
 */
class HyenaGoldenTest {

    @Test
    void filterAndConvolutionMatchFlaImplicitLongConvolution() throws Exception {
        Path file = Path.of(getClass().getResource("/golden/e9/implicit_filter.safetensors").toURI());
        Map<String, Tensor> g = SafeTensors.read(file);
        Map<String, String> meta = SafeTensors.readMetadata(file);
        Tensor x = g.get("x");
        int t = x.size(1);
        Hyena m = new Hyena(x.size(2), new Hyena.Options(1, Integer.parseInt(meta.get("max_len")), Integer.parseInt(meta.get("d_emb")),
                Integer.parseInt(meta.get("d_hidden")), 0, Hyena.Activation.RELU, false), DType.F64, new Generator(0));
        Map<String, String> names = Map.of("filter.in.weight", "mlp.0.weight", "filter.in.bias", "mlp.0.bias", "filter.out.weight",
                "mlp.2.weight", "filter.out.bias", "mlp.2.bias");
        names.forEach((ours, fla) -> m.stateDict().get(ours).copyFromInPlace(g.get(fla)));
        Variable h = m.filter(t);
        Ref.assertClose(g.get("filter"), h.data(), 1e-12);
        Variable xv = Variable.of(x.copy(), true);
        Variable out = CausalLongConv.train(xv, h, null).add(xv);
        Ref.assertClose(g.get("out"), out.data(), 1e-12);
        out.mul(Variable.constant(g.get("out_weight"))).sum().backward();
        Ref.assertClose(g.get("grad.x"), xv.grad(), 1e-12);
        names.forEach((ours, fla) -> Ref.assertClose(g.get("grad." + fla), m.namedParameters().get(ours).grad(), 1e-10));
    }
}
