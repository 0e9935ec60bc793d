package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * Causal attention by row blocks (skipping the blocks above the diagonal) equals the composite
 * attention in values and gradients, with and without document masks, for any block size and a
 * last block that may be short; and passes gradcheck. Its output comes in the queries' layout and
 * its input gradients in the layout of the inputs, so heads split from a projection by a transpose
 * need no copy to be merged again, either way.
 */
class CausalBlockAttentionTest {
    @Property(tries = 40)
    void blockwiseEqualsComposite(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 2, max = 13) int t, @ForAll @IntRange(min = 1, max = 5) int block, @ForAll boolean documents,
            @ForAll long seed) {
        int d = 3;
        Generator g = new Generator(seed);
        Tensor q = Tensor.randn(g, DType.F64, b, h, t, d);
        Tensor k = Tensor.randn(g, DType.F64, b, h, t, d);
        Tensor v = Tensor.randn(g, DType.F64, b, h, t, d);
        Tensor docs = documents ? Tensor.randint(g, 0, 2, DType.I64, b, t).cumsum(1) : null;
        AttentionMask mask = new AttentionMask(true, docs, 0);
        SoftmaxAttention blocked = new SoftmaxAttention().withCausalBlock(Math.min(block, t - 1));
        SoftmaxAttention reference = new SoftmaxAttention();
        Variable[] x = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable[] y = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable out = blocked.attend(x[0], x[1], x[2], mask);
        Variable expected = reference.attendComposite(y[0], y[1], y[2], mask);
        assertArrayEquals(expected.data().toDoubleArray(), out.data().toDoubleArray(), 1e-12);
        Tensor grad = Tensor.randn(g, DType.F64, b, h, t, d);
        out.backward(grad);
        expected.backward(grad);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(y[i].grad().toDoubleArray(), x[i].grad().toDoubleArray(), 1e-11, "input " + i);
        }
        GradCheck.check(z -> blocked.attend(z[0], z[1], z[2], mask), q, k, v);
    }

    @Property(tries = 10)
    void f32BlockwiseMatchesF64Composite(@ForAll @IntRange(min = 129, max = 200) int t, @ForAll long seed) {
        Generator g = new Generator(seed);
        Tensor q = Tensor.randn(g, DType.F32, 1, 2, t, 16);
        Tensor k = Tensor.randn(g, DType.F32, 1, 2, t, 16);
        Tensor v = Tensor.randn(g, DType.F32, 1, 2, t, 16);
        Variable out = new SoftmaxAttention().attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                AttentionMask.causalOnly());
        Variable expected = new SoftmaxAttention().attendComposite(Variable.constant(q.to(DType.F64)), Variable.constant(k.to(DType.F64)),
                Variable.constant(v.to(DType.F64)), AttentionMask.causalOnly());
        assertArrayEquals(expected.data().toDoubleArray(), out.data().toDoubleArray(), 1e-5);
    }

    @Property(tries = 10)
    void keepsTheLayoutOfTransposedHeads(@ForAll long seed) {
        Generator g = new Generator(seed);
        int[] bthd = {2, 9, 3, 4};
        Variable[] projected = new Variable[3];
        Variable[] heads = new Variable[3];
        java.util.List<Tensor> grads = new java.util.ArrayList<>(java.util.Collections.nCopies(3, null));
        for (int i = 0; i < 3; i++) {
            projected[i] = Variable.of(Tensor.randn(g, DType.F32, bthd), true);
            heads[i] = projected[i].transpose(1, 2); // (B, H, T, D), strided
            int slot = i;
            heads[i].registerHook(grad -> {
                grads.set(slot, grad);
                return null;
            });
        }
        Variable out = new SoftmaxAttention().withCausalBlock(4).attend(heads[0], heads[1], heads[2], AttentionMask.causalOnly());
        assertArrayEquals(heads[0].data().strides(), out.data().strides(), "the output keeps the queries' layout");
        out.backward(Tensor.randn(g, DType.F32, 2, 3, 9, 4));
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(heads[i].data().strides(), grads.get(i).strides(), "gradient " + i + " keeps its input's layout");
        }
    }
}
