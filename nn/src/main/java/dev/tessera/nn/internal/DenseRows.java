package dev.tessera.nn.internal;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * What the fused row kernels of nn (cross-entropy, RMSNorm, RoPE) share: their operands as
 * contiguous F32 or F64 arrays (F64 stays F64, every other floating dtype computes in F32), and one
 * element read or write through whichever of the two arrays the storage holds. Off-heap and
 * memory-mapped storage (what {@code SafeTensors.read} returns) have no array, so those operands are
 * copied to the heap once.
 */
public final class DenseRows {
    private DenseRows() {}

    /** F64 for F64 input, F32 otherwise. */
    public static DType computeType(Tensor t) {
        return t.dtype() == DType.F64 ? DType.F64 : DType.F32;
    }

    /** t in {@code dtype}, contiguous, on a heap array ({@link Tensor#heapContiguous}); copies only when it has to. */
    public static Tensor dense(Tensor t, DType dtype) {
        return t.heapContiguous(dtype);
    }

    public static double at(float[] f, double[] d, int i) {
        return f != null ? f[i] : d[i];
    }

    public static void put(float[] f, double[] d, int i, double v) {
        if (f != null) {
            f[i] = (float) v;
        } else {
            d[i] = v;
        }
    }
}
