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

    /**
     * t as a kernel may read it in place: t itself when it is already {@code dtype} on a heap array
     * with unit stride in its last dim (a transposed view of attention heads qualifies), otherwise
     * a dense copy. Index it through its strides and offset.
     */
    public static Tensor strided(Tensor t, DType dtype) {
        boolean inPlace = t.dtype() == dtype && t.storage().array() != null && (t.rank() == 0 || t.stride(-1) == 1 || t.size(-1) == 1);
        return inPlace ? t : dense(t, dtype);
    }

    /**
     * Zeros of {@code like}'s shape laid out in the same order of dims as {@code like} (dims sorted by
     * decreasing stride, ties kept in order): a result written in its input's layout stays a view of
     * whatever the input was a view of, so the transpose or reshape after it needs no copy either way
     * (PyTorch's preserve_format).
     */
    public static Tensor zerosLike(Tensor like, DType dtype) {
        return zerosLike(like, dtype, like.shape());
    }

    /** Zeros of {@code shape} (of {@code like}'s rank) with dims in {@code like}'s memory order, as {@link #zerosLike(Tensor, DType)}. */
    public static Tensor zerosLike(Tensor like, DType dtype, int... shape) {
        int rank = like.rank();
        if (shape.length != rank) {
            throw new IllegalArgumentException("zerosLike: shape " + java.util.Arrays.toString(shape) + " does not have the rank of "
                    + java.util.Arrays.toString(like.shape()));
        }
        Integer[] order = new Integer[rank];
        for (int i = 0; i < rank; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Integer.compare(like.stride(b), like.stride(a)));
        int[] physical = new int[rank];
        int[] back = new int[rank];
        for (int i = 0; i < rank; i++) {
            physical[i] = shape[order[i]];
            back[order[i]] = i;
        }
        return Tensor.zeros(dtype, physical).permute(back);
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
