package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * E26's masked dilated convolution against PyTorch's {@code Conv1d(H, H, k, dilation=r)} on the
 * left-padded input, r = 1, 2, 4: the fixture written by {@code nn/tools/golden_e26_bytenet_conv.py}
 * holds weights, input, output and the gradients of input, weight and bias in F64.
 */
class ByteNetGoldenTest {

    @Test
    void dilatedConvolutionMatchesTorchConv1d() throws Exception {
        Map<String, Tensor> g = SafeTensors.read(Path.of(getClass().getResource("/golden/e26/dilated_conv.safetensors").toURI()));
        for (int r : new int[] {1, 2, 4}) {
            String p = "r" + r + ".";
            Tensor x = g.get(p + "x");
            Variable xv = Variable.of(x.copy(), true);
            Variable w = Variable.of(g.get(p + "weight").copy(), true);
            Variable b = Variable.of(g.get(p + "bias").copy(), true);
            int pad = (w.size(2) - 1) * r;
            Variable window = Variable.cat(1, Variable.constant(Tensor.zeros(x.dtype(), x.size(0), pad, x.size(2))), xv);
            Variable out = ByteNet.dilatedConv(window, w, b, r, x.size(1), null);
            Ref.assertClose(g.get(p + "out"), out.data(), 1e-12);
            out.mul(Variable.constant(g.get(p + "out_weight"))).sum().backward();
            Ref.assertClose(g.get(p + "grad.x"), xv.grad(), 1e-12);
            Ref.assertClose(g.get(p + "grad.weight"), w.grad(), 1e-12);
            Ref.assertClose(g.get(p + "grad.bias"), b.grad(), 1e-12);
        }
    }
}
