package dev.tessera.nn.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.norm.NormPlacement;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** A1 norm placement (pre, post, sandwich) and A6 serial/parallel blocks against compositions of the double references. */
class TransformerBlockTest {

    static TransformerBlock.Config config(int dim, NormKind norm, NormPlacement placement, BlockStyle style, FeedForward.Kind ffn) {
        var attn = new MultiHeadAttention.Config(dim, 2, 1, dim / 2, false, RotaryEmbedding.Convention.HALF_SPLIT, 10000, 16, null, 1e-6,
                0, 0, DType.F64);
        var mlp = new FeedForward.Config(dim, 2 * dim, ffn, ffn == FeedForward.Kind.MLP ? Activation.GELU_ERF : null, false, DType.F64);
        return new TransformerBlock.Config(attn, mlp, norm, 1e-5, true, placement, style, 0);
    }

    static double[] add(double[] a, double[] b) {
        double[] c = a.clone();
        for (int i = 0; i < c.length; i++) {
            c[i] += b[i];
        }
        return c;
    }

    static double[] reference(TransformerBlock.Config c, double[] x, int b, int t, Map<String, Tensor> s) {
        int d = c.dim();
        java.util.function.UnaryOperator<double[]> a = h -> Ref.attention(c.attention(), h, b, t, s, "self_attn.", true, null);
        java.util.function.UnaryOperator<double[]> m = h -> Ref.ffn(c.mlp(), h, s, "mlp.");
        java.util.function.BiFunction<String, double[], double[]> n = (name, h) -> Ref.norm(c.norm(), h, d, s, name + ".", c.normEps());
        boolean serial = c.style() == BlockStyle.SERIAL;
        return switch (c.placement()) {
            case PRE -> {
                if (serial) {
                    double[] h = add(x, a.apply(n.apply("input_layernorm", x)));
                    yield add(h, m.apply(n.apply("post_attention_layernorm", h)));
                }
                double[] nx = n.apply("input_layernorm", x);
                yield add(add(x, a.apply(nx)), m.apply(nx));
            }
            case POST -> {
                if (serial) {
                    double[] h = n.apply("post_attention_layernorm", add(x, a.apply(x)));
                    yield n.apply("post_feedforward_layernorm", add(h, m.apply(h)));
                }
                yield n.apply("post_layernorm", add(add(x, a.apply(x)), m.apply(x)));
            }
            case SANDWICH -> {
                if (serial) {
                    double[] h = add(x, n.apply("post_attention_layernorm", a.apply(n.apply("input_layernorm", x))));
                    yield add(h, n.apply("post_feedforward_layernorm", m.apply(n.apply("pre_feedforward_layernorm", h))));
                }
                double[] nx = n.apply("input_layernorm", x);
                yield add(add(x, n.apply("post_attention_layernorm", a.apply(nx))), n.apply("post_feedforward_layernorm", m.apply(nx)));
            }
        };
    }

    @Property(tries = 36)
    void matchesReference(@ForAll NormPlacement placement, @ForAll BlockStyle style, @ForAll NormKind norm, @ForAll FeedForward.Kind ffn,
            @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 4) int t, @ForAll long seed) {
        Assume.that(!ffn.hasOptions()); // the decoder block's FFN is per-token; a routed kind is the encoder's
        var c = config(4, norm, placement, style, ffn);
        TransformerBlock block = new TransformerBlock(c, new Generator(seed));
        Ref.randomizeNorms(block, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, 4);
        double[] expected = reference(c, Ref.d(x), b, t, block.stateDict());
        Ref.assertClose(expected, block.forward(Variable.constant(x), AttentionMask.causalOnly(), null).data(), 1e-9);
    }

    @Test
    void gradients() {
        for (NormPlacement placement : NormPlacement.values()) {
            for (BlockStyle style : BlockStyle.values()) {
                var c = config(4, NormKind.LAYER_NORM, placement, style, FeedForward.Kind.SWIGLU);
                TransformerBlock block = new TransformerBlock(c, new Generator(3));
                Ref.randomizeNorms(block, 3);
                Variable x = Ref.var(Ref.randn(4, 1, 1, 3, 4));
                ParamGradCheck.check(() -> block.forward(x, AttentionMask.causalOnly(), null), ParamGradCheck.concat(block.parameters(), x));
            }
        }
    }

    @Test
    void normNames() {
        var pre = new TransformerBlock(config(4, NormKind.RMS_NORM, NormPlacement.PRE, BlockStyle.SERIAL, FeedForward.Kind.SWIGLU),
                new Generator(1));
        assertEquals(List.of("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight",
                "post_attention_layernorm.weight"), List.copyOf(pre.namedParameters().keySet()));
        var sandwich = new TransformerBlock(config(4, NormKind.RMS_NORM, NormPlacement.SANDWICH, BlockStyle.SERIAL, FeedForward.Kind.SWIGLU),
                new Generator(1));
        assertEquals(List.of("input_layernorm.weight", "post_attention_layernorm.weight", "pre_feedforward_layernorm.weight",
                "post_feedforward_layernorm.weight"), sandwich.namedParameters().keySet().stream().filter(k -> k.contains("layernorm")).toList());
    }

    @Test
    void configValidation() {
        var c = config(4, NormKind.RMS_NORM, NormPlacement.PRE, BlockStyle.SERIAL, FeedForward.Kind.SWIGLU);
        var e = assertThrows(IllegalArgumentException.class, () -> new TransformerBlock.Config(c.attention(),
                new FeedForward.Config(6, 8, FeedForward.Kind.SWIGLU, null, false, DType.F64), NormKind.RMS_NORM, 1e-5, false,
                NormPlacement.PRE, BlockStyle.SERIAL, 0));
        assertEquals("TransformerBlock.Config: attention dim 4 != mlp dim 6", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock.Config(c.attention(), c.mlp(), NormKind.RMS_NORM, 1e-5,
                false, null, BlockStyle.SERIAL, 0));
        assertThrows(IllegalArgumentException.class, () -> new TransformerBlock.Config(c.attention(), c.mlp(), NormKind.RMS_NORM, 1e-5,
                false, NormPlacement.PRE, BlockStyle.SERIAL, 1.0));
    }
}
