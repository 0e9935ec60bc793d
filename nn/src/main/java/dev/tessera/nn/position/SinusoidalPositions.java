package dev.tessera.nn.position;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Fixed sinusoidal absolute positions (C1), Vaswani et al., "Attention Is All You Need", 2017:
 *
 * <pre>
 *   PE(pos, 2i)   = sin(pos / 10000^(2i/d))
 *   PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
 * </pre>
 *
 * added to the token embeddings. {@code offset} is the absolute position of the first token, so a
 * cached decoding step at position p gets row p of the table. No parameters; the values are
 * computed in double and rounded to the requested dtype. An odd d ends with one sine column.
 */
public final class SinusoidalPositions extends Module {
    private final int dim;
    private final double base;

    public SinusoidalPositions(int dim) {
        this(dim, 10000.0);
    }

    public SinusoidalPositions(int dim, double base) {
        if (dim <= 0) {
            throw new IllegalArgumentException("SinusoidalPositions: dim must be positive, got " + dim);
        }
        if (!(base > 1)) {
            throw new IllegalArgumentException("SinusoidalPositions: base must be > 1, got " + base);
        }
        this.dim = dim;
        this.base = base;
    }

    /** The (length, d) table for positions offset .. offset+length−1. */
    public Tensor encode(int length, int offset, DType dtype) {
        if (length < 0 || offset < 0) {
            throw new IllegalArgumentException("SinusoidalPositions: length and offset must be >= 0, got " + length + ", " + offset);
        }
        double[] pe = new double[length * dim];
        for (int p = 0; p < length; p++) {
            double pos = offset + p;
            for (int c = 0; c < dim; c++) {
                int i2 = c - (c & 1); // 2i
                double angle = pos / Math.pow(base, (double) i2 / dim);
                pe[p * dim + c] = (c & 1) == 0 ? Math.sin(angle) : Math.cos(angle);
            }
        }
        return Tensor.of(pe, length, dim).to(dtype);
    }

    /** x (..., T, d) plus the encodings of positions offset .. offset+T−1. */
    public Variable forward(Variable x, int offset) {
        if (x.rank() < 2 || x.size(-1) != dim) {
            throw new IllegalArgumentException("SinusoidalPositions: input " + java.util.Arrays.toString(x.shape())
                    + " must end with (T, " + dim + ")");
        }
        return x.add(OnDevice.constant(encode(x.size(-2), offset, x.dtype()), x));
    }

    public int dim() {
        return dim;
    }
}
