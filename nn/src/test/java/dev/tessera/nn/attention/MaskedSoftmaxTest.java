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

/** The fused masked softmax attention equals its composite (values and gradients) and passes gradcheck. */
class MaskedSoftmaxTest {
    @Property(tries = 40)
    void fusedAttentionEqualsComposite(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 0, max = 3) int past, @ForAll boolean documents,
            @ForAll long seed) {
        int s = t + past;
        int d = 4;
        Generator g = new Generator(seed);
        Tensor q = Tensor.randn(g, DType.F64, b, h, t, d);
        Tensor k = Tensor.randn(g, DType.F64, b, h, s, d);
        Tensor v = Tensor.randn(g, DType.F64, b, h, s, d);
        Tensor docs = documents ? Tensor.randint(g, 0, 2, DType.I64, b, s).cumsum(1) : null;
        AttentionMask mask = new AttentionMask(true, docs, past);
        SoftmaxAttention attention = new SoftmaxAttention();
        Variable[] fused = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable[] composite = {Variable.of(q, true), Variable.of(k, true), Variable.of(v, true)};
        Variable yf = attention.attend(fused[0], fused[1], fused[2], mask);
        Variable yc = attention.attendComposite(composite[0], composite[1], composite[2], mask);
        assertArrayEquals(yc.data().toDoubleArray(), yf.data().toDoubleArray(), 1e-12);
        Tensor grad = Tensor.randn(g, DType.F64, b, h, t, d);
        yf.backward(grad);
        yc.backward(grad);
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(composite[i].grad().toDoubleArray(), fused[i].grad().toDoubleArray(), 1e-11);
        }
        GradCheck.check(x -> attention.attend(x[0], x[1], x[2], mask), q, k, v);
    }
}
