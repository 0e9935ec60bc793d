package dev.tessera.nn.ffn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** B24: CoLT5's conditional feed-forward y_i = light(x_i) + [i ∈ top-m of x·r] σ(x_i·r) heavy(x_i). */
class ConditionalFeedForwardTest {

    @Property(tries = 60)
    void matchesLightPlusRoutedHeavyReference(@ForAll FeedForward.Kind kind, @ForAll boolean bias,
            @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 5) int dim, @ForAll @IntRange(min = 1, max = 4) int lightHidden,
            @ForAll @IntRange(min = 1, max = 6) int hidden, @ForAll @IntRange(min = 1, max = 10) int m,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        Assume.that(!kind.hasOptions());
        var heavy = new FeedForward.Config(dim, hidden, kind, kind == FeedForward.Kind.MLP ? Activation.GELU_ERF : null, bias, DType.F64);
        var light = new FeedForward.Config(dim, lightHidden, heavy.kind(), heavy.activation(), bias, DType.F64);
        var f = new ConditionalFeedForward(heavy, new ConditionalFeedForward.Options(lightHidden, m), new Generator(seed));
        Map<String, Tensor> state = f.stateDict();
        Tensor x = Ref.randn(seed + 1, 1, b, t, dim);
        double[] xs = Ref.d(x);
        double[] r = Ref.p(state, "router");
        double[] expected = Ref.ffn(light, xs, state, "light.");
        double[] heavyAll = Ref.ffn(heavy, xs, state, "heavy."); // every token, kept only where routed
        for (int bb = 0; bb < b; bb++) {
            double[] s = new double[t];
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < dim; c++) {
                    s[i] += xs[(bb * t + i) * dim + c] * r[c];
                }
            }
            for (int i = 0; i < t; i++) {
                if (Ref.routed(s, i, m)) {
                    for (int c = 0; c < dim; c++) {
                        expected[(bb * t + i) * dim + c] += Ref.act(Activation.SIGMOID, s[i]) * heavyAll[(bb * t + i) * dim + c];
                    }
                }
            }
        }
        Ref.assertClose(expected, f.forward(Variable.constant(x)).data(), 1e-10);
    }

    /** Every weight of both branches, the router and x by F64 finite differences (3 of 7 tokens routed: the selection matters). */
    @Test
    void gradientsMatchFiniteDifferences() {
        var heavy = new FeedForward.Config(4, 6, FeedForward.Kind.MLP, Activation.GELU_TANH, true, DType.F64);
        var f = new ConditionalFeedForward(heavy, new ConditionalFeedForward.Options(3, 3), new Generator(3));
        Variable x = Ref.var(Ref.randn(4, 1, 2, 7, 4));
        ParamGradCheck.check(() -> f.forward(x), ParamGradCheck.concat(f.parameters(), x));
    }

    @Test
    void namesShapesAndOneLineErrors() {
        var heavy = new FeedForward.Config(8, 32, FeedForward.Kind.MLP, Activation.RELU, true, DType.F32);
        var f = new ConditionalFeedForward(heavy, new ConditionalFeedForward.Options(4, 2), new Generator(1));
        assertEquals(List.of("router", "light.fc1.weight", "light.fc1.bias", "light.fc2.weight", "light.fc2.bias", "heavy.fc1.weight",
                "heavy.fc1.bias", "heavy.fc2.weight", "heavy.fc2.bias"), List.copyOf(f.namedParameters().keySet()));
        assertArrayEquals(new int[] {4, 8}, f.namedParameters().get("light.fc1.weight").data().shape());
        assertArrayEquals(new int[] {8, 1}, f.namedParameters().get("router").data().shape());
        Variable x = Variable.constant(Tensor.randn(new Generator(2), DType.F32, 2, 5, 8));
        assertArrayEquals(new int[] {2, 5, 8}, f.forward(x).shape());
        assertEquals("ConditionalFeedForward: expected x (B, T, 8), got [5, 8]",
                assertThrows(IllegalArgumentException.class, () -> f.forward(Variable.constant(Tensor.zeros(DType.F32, 5, 8)))).getMessage());
        assertEquals("ffn conditional: options light_hidden and routed must be >= 1, got light_hidden=4 routed=0",
                assertThrows(IllegalArgumentException.class, () -> new ConditionalFeedForward.Options(4, 0)).getMessage());
        assertEquals("FeedForward.Config: kind conditional routes tokens across the sequence; build a ConditionalFeedForward",
                assertThrows(IllegalArgumentException.class,
                        () -> new FeedForward.Config(8, 32, FeedForward.Kind.CONDITIONAL, Activation.RELU, true, DType.F32)).getMessage());
        assertEquals(List.of(FeedForward.Kind.CONDITIONAL), Arrays.stream(FeedForward.Kind.values()).filter(FeedForward.Kind::routed).toList());
    }
}
