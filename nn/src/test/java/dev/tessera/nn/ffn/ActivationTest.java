package dev.tessera.nn.ffn;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** A4: each activation against its formula in double, and its gradient by finite differences. */
class ActivationTest {

    @Property(tries = 60)
    void matchesFormula(@ForAll Activation a, @ForAll @IntRange(min = 1, max = 20) int n, @ForAll long seed) {
        Tensor x = Ref.randn(seed, 3, n);
        double[] xs = Ref.d(x);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            expected[i] = Ref.act(a, xs[i]);
        }
        Ref.assertClose(expected, a.apply(Variable.constant(x)).data(), 1e-12);
    }

    @Property(tries = 30)
    void gradient(@ForAll Activation a, @ForAll long seed) {
        Tensor x = Ref.randn(seed, 2, 2, 5);
        // keep away from the kink at 0 for RELU and SQUARED_RELU
        Tensor shifted = x.add(x.sign().mul(0.05));
        GradCheck.check(v -> a.apply(v[0]), shifted);
    }
}
