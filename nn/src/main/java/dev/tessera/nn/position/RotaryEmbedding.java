package dev.tessera.nn.position;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Rotary position embedding (A7; Su et al. 2021, "RoFormer"). Pairs of head dimensions are
 * rotated by a position-dependent angle: for pair i at position m, θ_i = base^(−2i/d) and
 * <pre>
 *   (x'_a, x'_b) = (x_a·cos mθ_i − x_b·sin mθ_i,  x_b·cos mθ_i + x_a·sin mθ_i)
 * </pre>
 * so that ⟨R_m q, R_n k⟩ depends only on m − n. Two conventions choose which dims form pair i:
 * INTERLEAVED (a, b) = (2i, 2i+1), as RoFormer and Meta's Llama code (complex multiplication);
 * HALF_SPLIT (a, b) = (i, i + d/2), as Hugging Face's {@code rotate_half}. They are the same
 * rotation up to a fixed permutation of the head dims. Any base works (10000 for Llama 2, 500000
 * for Llama 3). cos/sin tables (maxPositions, d/2) are non-persistent buffers, regrown on demand.
 */
public final class RotaryEmbedding extends Module {

    public enum Convention { INTERLEAVED, HALF_SPLIT }

    private final int headDim;
    private final double base;
    private final Convention convention;
    private final DType dtype;
    private int cached;

    public RotaryEmbedding(int headDim, double base, Convention convention, int maxPositions, DType dtype) {
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new IllegalArgumentException("RotaryEmbedding: head dim must be positive and even, got " + headDim);
        }
        if (!(base > 1) || maxPositions <= 0 || convention == null) {
            throw new IllegalArgumentException("RotaryEmbedding: need base > 1, maxPositions > 0 and a convention, got base=" + base
                    + " maxPositions=" + maxPositions + " convention=" + convention);
        }
        Params.checkFloating("RotaryEmbedding", dtype);
        this.headDim = headDim;
        this.base = base;
        this.convention = convention;
        this.dtype = dtype;
        Tensor[] t = tables(maxPositions);
        buffer("cos_cached", t[0], false);
        buffer("sin_cached", t[1], false);
        cached = maxPositions;
    }

    private Tensor[] tables(int positions) {
        int half = headDim / 2;
        double[] c = new double[positions * half];
        double[] s = new double[positions * half];
        for (int i = 0; i < half; i++) {
            double invFreq = Math.pow(base, -2.0 * i / headDim);
            for (int m = 0; m < positions; m++) {
                double angle = m * invFreq;
                c[m * half + i] = Math.cos(angle);
                s[m * half + i] = Math.sin(angle);
            }
        }
        return new Tensor[] {Tensor.of(c, positions, half).to(dtype), Tensor.of(s, positions, half).to(dtype)};
    }

    public Convention convention() {
        return convention;
    }

    public int headDim() {
        return headDim;
    }

    /** Rotates x (B, H, T, D) whose first query sits at absolute position {@code positionOffset}. */
    public Variable apply(Variable x, int positionOffset) {
        if (x.rank() != 4 || x.size(-1) != headDim) {
            throw new IllegalArgumentException("RotaryEmbedding: expected (B, H, T, " + headDim + "), got "
                    + java.util.Arrays.toString(x.shape()));
        }
        if (positionOffset < 0) {
            throw new IllegalArgumentException("RotaryEmbedding: positionOffset must be >= 0, got " + positionOffset);
        }
        int t = x.size(2);
        int needed = positionOffset + t;
        if (needed > cached) {
            int grown = Math.max(needed, 2 * cached);
            Tensor[] tb = tables(grown);
            setBuffer("cos_cached", tb[0].to(x.data().device()));
            setBuffer("sin_cached", tb[1].to(x.data().device()));
            cached = grown;
        }
        Tensor cosT = getBuffer("cos_cached").narrow(0, positionOffset, t); // (T, D/2)
        Tensor sinT = getBuffer("sin_cached").narrow(0, positionOffset, t); // (T, D/2)
        if (x.dtype() != cosT.dtype()) {
            cosT = cosT.to(x.dtype());
            sinT = sinT.to(x.dtype());
        }
        return new RopeFunction(convention).call(x, Variable.constant(cosT), Variable.constant(sinT));
    }

    /** The same rotation from recorded primitives: the reference the fused {@link RopeFunction} is tested against. */
    Variable applyComposite(Variable x, int positionOffset) {
        int t = x.size(2);
        apply(x, positionOffset); // grows the tables when needed
        Tensor cosT = getBuffer("cos_cached").narrow(0, positionOffset, t).to(x.dtype());
        Tensor sinT = getBuffer("sin_cached").narrow(0, positionOffset, t).to(x.dtype());
        Variable c = Variable.constant(cosT);
        Variable s = Variable.constant(sinT);
        int half = headDim / 2;
        return switch (convention) {
            case HALF_SPLIT -> {
                Variable a = x.narrow(-1, 0, half); // (B, H, T, D/2)
                Variable b = x.narrow(-1, half, half);
                yield Variable.cat(-1, a.mul(c).sub(b.mul(s)), b.mul(c).add(a.mul(s)));
            }
            case INTERLEAVED -> {
                Variable pairs = x.unflatten(-1, half, 2); // (B, H, T, D/2, 2)
                Variable a = pairs.select(-1, 0);
                Variable b = pairs.select(-1, 1);
                yield Variable.stack(-1, a.mul(c).sub(b.mul(s)), b.mul(c).add(a.mul(s))).flatten(-2, -1);
            }
        };
    }
}
