package dev.tessera.nn.position;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;

/**
 * Learned absolute position embeddings (C1), as GPT-2's {@code wpe} (Radford et al. 2019; BERT,
 * Devlin et al. 2019): a trainable table P of shape (maxPositions, d), parameter {@code weight},
 *
 * <pre>
 *   h_t = x_t + P[offset + t]
 * </pre>
 *
 * {@code offset} is the absolute position of the first token (the cache length when decoding), so
 * cached decoding reads the same rows as the full pass. Positions beyond maxPositions are an error.
 */
public final class LearnedPositions extends Module {
    private final Variable weight;
    private final int maxPositions;
    private final int dim;

    /** Initialised N(0, std²) (GPT-2 uses 0.01 for wpe, nanoGPT 0.02), an F32 table. */
    public LearnedPositions(int maxPositions, int dim, double std, Generator g) {
        this(maxPositions, dim, std, g, DType.F32);
    }

    /** Initialised N(0, std²) (GPT-2 uses 0.01 for wpe, nanoGPT 0.02), a table of {@code dtype} (the model's). */
    public LearnedPositions(int maxPositions, int dim, double std, Generator g, DType dtype) {
        if (maxPositions <= 0 || dim <= 0) {
            throw new IllegalArgumentException("LearnedPositions: sizes must be positive, got maxPositions=" + maxPositions + " dim=" + dim);
        }
        Params.checkFloating("LearnedPositions", dtype);
        this.maxPositions = maxPositions;
        this.dim = dim;
        this.weight = parameter("weight", Init.normal(g, std, maxPositions, dim).to(dtype));
    }

    /** Rows offset .. offset+length−1 of the table: (length, d), a view that carries the gradient. */
    public Variable positions(int length, int offset) {
        if (length < 0 || offset < 0 || offset + length > maxPositions) {
            throw new IllegalArgumentException("LearnedPositions: positions [" + offset + ", " + (offset + length) + ") exceed the table of "
                    + maxPositions);
        }
        return weight.narrow(0, offset, length);
    }

    /** x (..., T, d) plus rows offset .. offset+T−1 (cast to x's dtype). */
    public Variable forward(Variable x, int offset) {
        if (x.rank() < 2 || x.size(-1) != dim) {
            throw new IllegalArgumentException("LearnedPositions: input " + java.util.Arrays.toString(x.shape()) + " must end with (T, "
                    + dim + ")");
        }
        return x.add(positions(x.size(-2), offset).to(x.dtype()));
    }

    public Variable weight() {
        return weight;
    }

    public int maxPositions() {
        return maxPositions;
    }
}
