package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E13: the Simple Recurrent Unit (Lei, Zhang, Wang, Dai, Artzi 2018, "Simple Recurrent Units for
 * Highly Parallelizable Recurrence", EMNLP), the 2018 form with the v ⊙ c_{t−1} peephole terms, as a
 * token mixer: all matrix work is one matmul over the whole sequence; only elementwise work is
 * sequential.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (the model width; the highway needs hidden = C).
 *
 *   x̃_t = W x_t,  and the gate inputs W_f x_t, W_r x_t: one matmul X Wᵀ, W = [W; W_f; W_r] (3C, C)
 *   f_t = σ(W_f x_t + v_f ⊙ c_{t−1} + b_f)
 *   r_t = σ(W_r x_t + v_r ⊙ c_{t−1} + b_r)
 *   c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ x̃_t,     c_{−1} = 0 (or the decoding state)
 *   h_t = r_t ⊙ c_t + (1 − r_t) ⊙ x_t            (highway)
 * </pre>
 *
 * Parameters: {@code weight} (3C, C), rows x̃, f, r stacked, N(0, 1/C); {@code v} (2C), rows v_f, v_r,
 * N(0, 1/C); {@code bias} (2C), b_f then b_r, b_f = {@code forget_bias}, b_r = 0.
 *
 * <p>Training: the v ⊙ c_{t−1} terms put c_{t−1} inside the sigmoids, so the recurrence is not linear
 * in c and cannot be a scan (the 2017 form without v could). It is a loop over time whose every step
 * is elementwise, vectorised over batch and channels: (B, 1, C) tensors, T small autograd steps. The
 * paper's speed comes from a fused CUDA kernel for this loop; here it is correctness first.
 * Decoding keeps c (B, 1, C) in the {@link MixerState}: O(1) per token. Packed training rows (the
 * mask's document ids) restart at each document's first token: c_{t−1} is taken as 0 there.
 */
public final class Sru extends Module implements TokenMixer {

    /** @param forgetBias the initial b_f (a positive value starts the cell remembering longer) */
    public record Options(double forgetBias) {
        public Options {
            if (!Double.isFinite(forgetBias)) {
                throw new IllegalArgumentException("mixer sru: need a finite forget_bias, got forget_bias=" + forgetBias);
            }
        }
    }

    private final int c;
    private final DType dtype;
    private final Variable weight;
    private final Variable v;
    private final Variable bias;

    /** An SRU over width {@code dim}, weights N(0, 1/C) from {@code g}. */
    public Sru(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer sru: width must be positive, got " + dim);
        }
        this.c = dim;
        this.dtype = dtype;
        weight = parameter("weight", Tensor.randn(g, dtype, 3 * c, c).mul(1 / Math.sqrt(c)));
        v = parameter("v", Tensor.randn(g, dtype, 2 * c).mul(1 / Math.sqrt(c)));
        Tensor b = Tensor.zeros(dtype, 2 * c);
        if (o.forgetBias() != 0) {
            b = Tensor.cat(0, Tensor.full(o.forgetBias(), dtype, c), Tensor.zeros(dtype, c));
        }
        bias = parameter("bias", b);
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer sru: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer sru", mask, b, t, state, x.dtype()); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Variable u = x.matmul(weight.mT()); // (B, T, 3C): x̃, W_f x, W_r x for every t at once
        Variable vf = v.narrow(0, 0, c);
        Variable vr = v.narrow(0, c, c);
        Variable bf = bias.narrow(0, 0, c);
        Variable br = bias.narrow(0, c, c);
        Variable cell = Variable.constant(held == null ? Tensor.zeros(x.dtype(), b, 1, c) : held[0]);
        Variable[] hs = new Variable[t];
        for (int s = 0; s < t; s++) {
            Variable prev = carry == null ? cell : cell.mul(Variable.constant(carry.narrow(1, s, 1)));
            Variable us = u.narrow(1, s, 1);
            Variable f = us.narrow(2, c, c).add(prev.mul(vf)).add(bf).sigmoid();
            Variable r = us.narrow(2, 2 * c, c).add(prev.mul(vr)).add(br).sigmoid();
            cell = f.mul(prev).add(f.rsub(1).mul(us.narrow(2, 0, c)));
            hs[s] = r.mul(cell).add(r.rsub(1).mul(x.narrow(1, s, 1)));
        }
        if (state != null) {
            state.advance(new Tensor[] {cell.data().copy()}, t);
        }
        return t == 1 ? hs[0] : Variable.cat(1, hs);
    }

    @Override
    public String toString() {
        return "Sru(C=" + c + ", " + dtype + ")";
    }
}
