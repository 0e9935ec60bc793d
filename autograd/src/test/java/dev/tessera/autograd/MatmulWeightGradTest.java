package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * A weight used transposed (y = x·Wᵀ, as Linear does) gets its gradient computed in W's own layout,
 * (gᵀ·x), instead of as the transpose of xᵀ·g: the same bits either way, for folded (B, T, C) inputs
 * and plain matrices, including sizes that take the small and the blocked GEMM paths.
 */
class MatmulWeightGradTest {
    @Property(tries = 30)
    void transposedWeightGradientHasTheBitsOfXTransposeG(@ForAll @IntRange(min = 1, max = 3) int batch,
            @ForAll @IntRange(min = 1, max = 70) int rows, @ForAll @IntRange(min = 2, max = 40) int in,
            @ForAll @IntRange(min = 2, max = 40) int out, @ForAll boolean folded, @ForAll long seed) {
        Generator gen = new Generator(seed);
        Tensor x = folded ? Tensor.randn(gen, DType.F32, batch, rows, in) : Tensor.randn(gen, DType.F32, rows, in);
        Tensor w = Tensor.randn(gen, DType.F32, out, in);
        Tensor g = folded ? Tensor.randn(gen, DType.F32, batch, rows, out) : Tensor.randn(gen, DType.F32, rows, out);
        Variable weight = Variable.of(w, true);
        Variable.constant(x).matmul(weight.mT()).backward(g);
        Tensor flatX = x.reshape(-1, in);
        Tensor flatG = g.reshape(-1, out);
        Tensor expected = flatX.mT().matmul(flatG).mT(); // the former formula: (xᵀ·g)ᵀ
        assertArrayEquals(expected.contiguous().toFloatArray(), weight.grad().contiguous().toFloatArray());
    }
}
