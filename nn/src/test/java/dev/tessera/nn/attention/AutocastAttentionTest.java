package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.tessera.autograd.Autocast;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * G9: under autocast the fused causal kernels (row blocks, flash) are one matmul-class op: q, k, v
 * and the output rounded to the low type, the kernel itself in F32; close to the composite path,
 * whose two products are rounded one by one.
 */
class AutocastAttentionTest {
    private static Variable r(Variable x) {
        return x.to(DType.BF16).to(DType.F32);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void fusedCausalKernelsRoundTheirInputsAndOutput(boolean flash) {
        Generator g = new Generator(11);
        int t = 9;
        Tensor[] qkv = {Tensor.randn(g, DType.F32, 1, 2, t, 4), Tensor.randn(g, DType.F32, 1, 2, t, 4), Tensor.randn(g, DType.F32, 1, 2, t, 4)};
        SoftmaxAttention fused = new SoftmaxAttention().withCausalBlock(4).withFlash(flash);
        AttentionMask mask = AttentionMask.causalOnly();
        Variable[] x = {Variable.of(qkv[0], true), Variable.of(qkv[1], true), Variable.of(qkv[2], true)};
        Variable out;
        Variable composite;
        try (var s = Autocast.enable(DType.BF16)) {
            out = fused.attend(x[0], x[1], x[2], mask); // (B, H, T, D)
            composite = fused.attendComposite(Variable.constant(qkv[0]), Variable.constant(qkv[1]), Variable.constant(qkv[2]), mask);
        }
        Variable[] y = {Variable.of(qkv[0], true), Variable.of(qkv[1], true), Variable.of(qkv[2], true)};
        Variable explicit = r(fused.attend(r(y[0]), r(y[1]), r(y[2]), mask));
        assertEquals(DType.F32, out.dtype());
        assertArrayEquals(explicit.data().toDoubleArray(), out.data().toDoubleArray(), 0.0);
        assertNotEquals(java.util.Arrays.toString(fused.attend(Variable.constant(qkv[0]), Variable.constant(qkv[1]), Variable.constant(qkv[2]),
                mask).data().toDoubleArray()), java.util.Arrays.toString(out.data().toDoubleArray()), "autocast must round the output");
        assertArrayEquals(composite.data().toDoubleArray(), out.data().toDoubleArray(), 0x1p-5, "the composite rounds scores and P as well");
        Tensor grad = Tensor.randn(g, DType.F32, 1, 2, t, 4);
        out.backward(grad);
        explicit.backward(grad);
        for (int i = 0; i < 3; i++) {
            assertEquals(DType.F32, x[i].grad().dtype());
            assertArrayEquals(y[i].grad().toDoubleArray(), x[i].grad().toDoubleArray(), 0.0, "input " + i);
        }
    }
}
