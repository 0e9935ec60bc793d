package dev.tessera.tensor;

import java.util.Arrays;

/** Shape arithmetic shared by every op: sizes, strides, broadcasting, dim normalisation. */
public final class Shapes {
    private Shapes() {}

    public static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /** Row-major (C order) strides. */
    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** Validates a shape given by the user and returns a defensive copy. */
    public static int[] checkShape(String op, int... shape) {
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException(op + ": negative size in shape " + Arrays.toString(shape));
            }
            n *= s;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(shape) + " has more than 2^31 elements");
            }
        }
        return shape.clone();
    }

    /** NumPy broadcasting of two shapes, or a one-line error naming the op. */
    public static int[] broadcast(String op, int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)] : 1;
            int db = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast (dim " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Strides that read a tensor of {@code shape, strides} as if it had {@code target} shape (0 on broadcast dims). */
    public static int[] broadcastStrides(String op, int[] shape, int[] strides, int[] target) {
        if (shape.length > target.length) {
            throw new IllegalArgumentException(op + ": cannot broadcast " + Arrays.toString(shape) + " to " + Arrays.toString(target));
        }
        int[] out = new int[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == target[lead + i]) {
                out[lead + i] = shape[i] == 1 ? 0 : strides[i];
            } else if (shape[i] == 1) {
                out[lead + i] = 0;
            } else {
                throw new IllegalArgumentException(op + ": cannot broadcast " + Arrays.toString(shape) + " to "
                        + Arrays.toString(target) + " (dim " + i + ")");
            }
        }
        return out;
    }

    /** Wraps a possibly negative dim into {@code [0, rank)}. */
    public static int dim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for a " + rank + "-d tensor");
        }
        return d;
    }

    /** Normalises a set of dims; an empty set means all dims. Returns a sorted, duplicate-free mask. */
    public static boolean[] dimMask(String op, int[] dims, int rank) {
        boolean[] mask = new boolean[rank];
        if (dims.length == 0) {
            Arrays.fill(mask, true);
            return mask;
        }
        for (int d : dims) {
            int n = dim(op, d, rank);
            if (mask[n]) {
                throw new IllegalArgumentException(op + ": dim " + d + " repeated in " + Arrays.toString(dims));
            }
            mask[n] = true;
        }
        return mask;
    }

    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
