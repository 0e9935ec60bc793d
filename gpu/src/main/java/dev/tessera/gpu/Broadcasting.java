package dev.tessera.gpu;

import java.util.Arrays;

/**
 * Shape arithmetic for device kernels: NumPy broadcasting of two shapes, the strides an operand is
 * read with inside a broadcast result (0 along broadcast dimensions), contiguous strides, and the
 * {@code Dims} struct the strided kernels take by value. Pure functions, tested on the CPU.
 */
public final class Broadcasting {
    /** Must equal TS_MAX_DIMS in common.cuh. */
    public static final int MAX_DIMS = 8;

    private Broadcasting() {}

    /** NumPy broadcasting, the tensor core's own rule. */
    public static int[] broadcastShape(int[] a, int[] b) {
        return dev.tessera.tensor.Shapes.broadcast("broadcast", a, b);
    }

    public static long[] contiguousStrides(int[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** The strides to read an operand of {@code shape}/{@code strides} at every index of {@code out}. */
    public static long[] stridesIn(int[] shape, long[] strides, int[] out) {
        long[] r = new long[out.length];
        int lead = out.length - shape.length;
        if (lead < 0) {
            throw new IllegalArgumentException("broadcast: rank " + shape.length + " exceeds the result's " + out.length);
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == out[lead + i]) {
                r[lead + i] = shape[i] == 1 ? 0 : strides[i];
            } else if (shape[i] == 1) {
                r[lead + i] = 0;
            } else {
                throw new IllegalArgumentException("broadcast: " + Arrays.toString(shape) + " cannot broadcast to "
                        + Arrays.toString(out));
            }
        }
        return r;
    }

    /** {@code struct Dims { long long v[1 + 3 * MAX_DIMS]; }}: rank, sizes, strides of a, strides of b. */
    public static long[] dims(int[] out, long[] stridesA, long[] stridesB) {
        if (out.length > MAX_DIMS) {
            throw new IllegalArgumentException("gpu kernels support at most " + MAX_DIMS + " dims, got " + out.length);
        }
        long[] v = new long[1 + 3 * MAX_DIMS];
        v[0] = out.length;
        for (int i = 0; i < out.length; i++) {
            v[1 + i] = out[i];
            v[1 + MAX_DIMS + i] = stridesA[i];
            v[1 + 2 * MAX_DIMS + i] = stridesB == null ? 0 : stridesB[i];
        }
        return v;
    }

    public static long numel(int[] shape) {
        return dev.tessera.tensor.Shapes.numel(shape);
    }
}
