package dev.tessera.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CUDA sum/mean plan (reduced dims moved last, gathered, summed per row) carried out with CPU
 * tensors, against the CPU's own reduction, over random shapes, dim subsets and keepDim.
 */
class ReducePlanTest {
    /** The plan run on the host: the reordered view made contiguous, summed per row, shaped as the result. */
    private static Tensor planned(Tensor x, int[] dims, boolean keepDim) {
        CudaKernels.ReducePlan plan = CudaKernels.ReducePlan.of(x.shape(), dims, keepDim);
        Tensor moved = x.permute(plan.order()).contiguous();
        int rowLength = (int) plan.rowLength();
        return moved.reshape(rowLength == 0 ? 0 : x.numel() / rowLength, rowLength).sum(false, 1).reshape(plan.outShape());
    }

    @Test
    void thePlanSumsWhatTheCpuSums() {
        Random r = new Random(3);
        Generator g = new Generator(3);
        for (int trial = 0; trial < 300; trial++) {
            int rank = r.nextInt(5);
            int[] shape = new int[rank];
            for (int d = 0; d < rank; d++) {
                shape[d] = 1 + r.nextInt(4);
            }
            int[] dims = java.util.stream.IntStream.range(0, rank).filter(d -> r.nextBoolean()).map(d -> r.nextBoolean() ? d : d - rank).toArray();
            boolean keepDim = r.nextBoolean();
            Tensor x = Tensor.randn(g, DType.F32, shape);
            if (rank >= 2 && r.nextBoolean()) {
                x = x.transpose(0, rank - 1); // a strided input
            }
            Tensor expected = x.sum(keepDim, dims);
            Tensor actual = planned(x, dims, keepDim);
            String what = Arrays.toString(x.shape()) + " over " + Arrays.toString(dims) + " keepDim " + keepDim;
            assertArrayEquals(expected.shape(), actual.shape(), what);
            float[] e = expected.toFloatArray();
            float[] a = actual.toFloatArray();
            for (int i = 0; i < e.length; i++) {
                assertEquals(e[i], a[i], 1e-5 * Math.max(1, Math.abs(e[i])), what + " at " + i);
            }
        }
    }

    @Test
    void repeatedOrOutOfRangeDimsAreOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaKernels.ReducePlan.of(new int[] {2, 3}, new int[] {1, -1}, false));
        assertEquals("dims [1, -1] are not distinct dims of a rank-2 tensor", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaKernels.ReducePlan.of(new int[] {2, 3}, new int[] {2}, false));
    }
}
