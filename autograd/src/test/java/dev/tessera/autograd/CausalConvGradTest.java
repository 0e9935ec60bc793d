package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.FftConv;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Variable.causalConv's gradients by central finite differences in F64, on both the direct and the FFT path. */
class CausalConvGradTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Generator g = new Generator(17);
        int longKernel = FftConv.DIRECT_TAPS + 1; // past the threshold: the FFT path (FftConvTest checks its backward on many shapes)
        for (int[] s : new int[][] {{2, 3, 7, 4}, {1, 2, 9, 12}, {1, 1, longKernel, longKernel + 3}}) {
            Tensor x = Tensor.randn(g, DType.F64, s[0], s[1], s[2]);
            Tensor k = Tensor.randn(g, DType.F64, s[1], s[3]);
            GradCheck.check(v -> v[0].causalConv(v[1]), x, k);
        }
    }
}
