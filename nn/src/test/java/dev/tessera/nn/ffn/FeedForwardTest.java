package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A5: MLP and the GLU family against Shazeer 2020's equations; Llama's d_ff rounding rule. */
class FeedForwardTest {

    @Property(tries = 40)
    void matchesReference(@ForAll FeedForward.Kind kind, @ForAll Activation mlpAct, @ForAll boolean bias,
            @ForAll @IntRange(min = 1, max = 6) int dim, @ForAll @IntRange(min = 1, max = 7) int hidden,
            @ForAll @IntRange(min = 1, max = 3) int rows, @ForAll long seed) {
        Assume.that(!kind.hasOptions()); // ConditionalFeedForwardTest
        var c = new FeedForward.Config(dim, hidden, kind, kind == FeedForward.Kind.MLP ? mlpAct : null, bias, DType.F64);
        FeedForward f = new FeedForward(c, new Generator(seed));
        Tensor x = Ref.randn(seed + 1, 1, rows, 2, dim);
        double[] expected = Ref.ffn(c, Ref.d(x), f.stateDict(), "");
        Ref.assertClose(expected, f.forward(Variable.constant(x)).data(), 1e-6); // F32 biases
    }

    @Test
    void gradients() {
        for (FeedForward.Kind kind : FeedForward.Kind.values()) {
            if (kind.hasOptions()) {
                continue; // their own tests
            }
            var c = new FeedForward.Config(4, 6, kind, kind == FeedForward.Kind.MLP ? Activation.GELU_TANH : null, true, DType.F64);
            FeedForward f = new FeedForward(c, new Generator(3));
            Variable x = Ref.var(Ref.randn(4, 1, 2, 4));
            ParamGradCheck.check(() -> f.forward(x), ParamGradCheck.concat(f.parameters(), x));
        }
    }

    @Test
    void llamaNames() {
        FeedForward f = new FeedForward(FeedForward.Config.swiglu(8, 16), new Generator(1));
        assertEquals(List.of("gate_proj.weight", "up_proj.weight", "down_proj.weight"), List.copyOf(f.namedParameters().keySet()));
        FeedForward m = new FeedForward(new FeedForward.Config(8, 32, FeedForward.Kind.MLP, Activation.RELU, true, DType.F32),
                new Generator(1));
        assertEquals(List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), List.copyOf(m.namedParameters().keySet()));
    }

    @Test
    void swigluHiddenRule() {
        assertEquals(11008, FeedForward.swigluHidden(4096, 256)); // Llama 7B
        assertEquals(13824, FeedForward.swigluHidden(5120, 256)); // Llama 13B
        assertEquals(14336, FeedForward.swigluHidden(4096, 1024, 1.3)); // Llama 3 8B
        assertEquals(28672, FeedForward.swigluHidden(8192, 4096, 1.3)); // Llama 2/3 70B
        assertEquals(11008, FeedForward.swigluHidden(4096, 256, Double.NaN));
    }

    @Test
    void configErrors() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new FeedForward.Config(4, 8, FeedForward.Kind.MLP, null, false, DType.F32));
        assertEquals("FeedForward.Config: an MLP needs an activation", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FeedForward.Config(0, 8, FeedForward.Kind.GLU, null, false, DType.F32));
        assertThrows(IllegalArgumentException.class, () -> new FeedForward.Config(4, 8, FeedForward.Kind.GLU, null, false, DType.I64));
    }
}
