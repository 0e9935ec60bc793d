package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.SafeTensors;
import dev.tessera.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

/**
 * The golden fixtures of the MLP/Fourier mixers (written by {@code nn/tools/golden_e*.py}): weights
 * by the module's parameter names, {@code x}, {@code grad_output}, {@code out}, {@code grad.x} and
 * {@code grad.NAME} for each weight, float64.
 */
final class MixerGolden {
    private MixerGolden() {}

    static Map<String, Tensor> load(String resource) throws Exception {
        return SafeTensors.read(Path.of(MixerGolden.class.getResource(resource).toURI()));
    }

    /**
     * Copies the fixture's weights into {@code m} (every parameter must be there), runs {@code f} on x,
     * backpropagates grad_output, and compares the output and the gradients of x and of every weight.
     */
    static void check(Map<String, Tensor> g, Module m, Function<Variable, Variable> f, double tol) {
        m.namedParameters().forEach((name, p) -> p.data().copyFromInPlace(java.util.Objects.requireNonNull(g.get(name), name)));
        Variable x = Variable.of(g.get("x"), true);
        Variable out = f.apply(x);
        org.junit.jupiter.api.Assertions.assertArrayEquals(g.get("out").shape(), out.shape(), "output shape");
        Ref.assertClose(g.get("out"), out.data(), tol);
        out.backward(g.get("grad_output"));
        Ref.assertClose(g.get("grad.x"), x.grad(), tol);
        m.namedParameters().forEach((name, p) -> Ref.assertClose(g.get("grad." + name), p.grad(), tol));
    }
}
