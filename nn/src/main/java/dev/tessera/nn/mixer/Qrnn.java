package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E14: the Quasi-Recurrent Neural Network (Bradbury, Merity, Xiong, Socher 2017,
 * "Quasi-Recurrent Neural Networks", ICLR), a token mixer: the gates come from causal width-k
 * convolutions over the inputs only, so the only recurrence is the elementwise, linear fo-pooling,
 * which trains as a parallel scan and decodes in O(1) per token.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels (the model width), H hidden width, k window.
 *
 *   Z = tanh(W_z * X + b_z),  F = σ(W_f * X + b_f),  O = σ(W_o * X + b_o)     (B, T, H)
 *       (* a causal convolution: W * X at t = Σ_{j&lt;k} W_j x_{t−j}, x_{t−j} = 0 before the start)
 *   c_t = f_t ⊙ c_{t−1} + (1 − f_t) ⊙ z_t,   c_{−1} = 0 (or the decoding state)  (fo-pooling, eq. 4)
 *   h_t = o_t ⊙ c_t
 *   y_t = P h_t  when H ≠ C (an output projection back to C, ours, not the paper's), else y_t = h_t
 * </pre>
 *
 * Parameters: {@code weight} (3H, k·C), rows z, f, o stacked, column block j the tap at lag j;
 * {@code bias} (3H), zero; {@code proj} (C, H) only when H ≠ C. The three convolutions are one
 * matmul of the k lagged copies of X, concatenated along channels, with {@code weight}ᵀ.
 *
 * <p>Training: the convolution is that one matmul; fo-pooling is a time-varying linear recurrence,
 * run as a Hillis–Steele scan over time like {@link Lru}'s: log₂T steps of
 * x_t ← x_t + a_t ⊙ x_{t−d}, a_t ← a_t ⊙ a_{t−d}, from x_t = (1 − f_t) ⊙ z_t and a_t = f_t.
 * Decoding keeps in the {@link MixerState} c (B, 1, H) and the last k − 1 inputs (B, k − 1, C).
 * Packed training rows (the mask's document ids) restart at each document's first token: a_t = 0
 * there, and the convolution's lagged copies are zeroed where the lag crosses a document start.
 */
public final class Qrnn extends Module implements TokenMixer {

    /**
     * @param window k, the convolution width, at least 1 (the paper's language model uses 2)
     * @param hidden H, the hidden width; 0 means C (the model width), and then there is no output projection
     */
    public record Options(int window, int hidden) {
        public Options {
            if (window < 1 || hidden < 0) {
                throw new IllegalArgumentException("mixer qrnn: need window >= 1 and hidden >= 0, got window=" + window + " hidden=" + hidden);
            }
        }
    }

    private final int c;
    private final int h;
    private final int k;
    private final DType dtype;
    private final Variable weight;
    private final Variable bias;
    private final Variable proj;

    /** A QRNN over width {@code dim}, weights N(0, 1/(k·C)) (projection N(0, 1/H)) from {@code g}. */
    public Qrnn(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer qrnn: width must be positive, got " + dim);
        }
        this.c = dim;
        this.h = o.hidden() == 0 ? dim : o.hidden();
        this.k = o.window();
        this.dtype = dtype;
        weight = parameter("weight", Tensor.randn(g, dtype, 3 * h, k * c).mul(1 / Math.sqrt(k * c)));
        bias = parameter("bias", Tensor.zeros(dtype, 3 * h));
        proj = h == c ? null : parameter("proj", Tensor.randn(g, dtype, c, h).mul(1 / Math.sqrt(h)));
    }

    /** k, the convolution window. */
    public int window() {
        return k;
    }

    /** H, the hidden width. */
    public int hidden() {
        return h;
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer qrnn: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("mixer qrnn", mask, b, t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Variable xs = x; // the k − 1 previous inputs, then x: (B, k − 1 + T, C)
        if (k > 1) {
            Tensor prefix = held == null ? Tensor.zeros(x.data().device(), x.dtype(), b, k - 1, c) : held[1];
            xs = Variable.cat(1, Variable.constant(prefix), x);
        }
        Variable[] lagged = new Variable[k];
        Tensor within = carry; // 1 where x_{t−j} is in t's document
        for (int j = 0; j < k; j++) {
            Variable lag = xs.narrow(1, k - 1 - j, t);
            if (j > 0 && carry != null) {
                within = j == 1 ? carry : within.mul(delay(carry, j - 1));
                lag = lag.mul(Variable.constant(within));
            }
            lagged[j] = lag;
        }
        Variable gates = (k == 1 ? lagged[0] : Variable.cat(2, lagged)).matmul(weight.mT()).add(bias); // (B, T, 3H)
        Variable z = gates.narrow(2, 0, h).tanh();
        Variable f = gates.narrow(2, h, h).sigmoid();
        Variable o = gates.narrow(2, 2 * h, h).sigmoid();
        Variable cs = f.rsub(1).mul(z);
        Variable a = carry == null ? f : f.mul(Variable.constant(carry));
        if (held != null) { // c_0 = f_0 c_{−1} + (1 − f_0) z_0: fold the carried state into the first step
            Variable first = cs.narrow(1, 0, 1).add(a.narrow(1, 0, 1).mul(Variable.constant(held[0])));
            cs = t == 1 ? first : Variable.cat(1, first, cs.narrow(1, 1, t - 1));
        }
        for (int step = 1; step < t; step *= 2) { // Hillis–Steele: c_t += a_t c_{t−step}, a_t ← a_t a_{t−step}
            cs = cs.add(a.mul(shift(cs, step)));
            a = a.mul(shift(a, step));
        }
        if (state != null) {
            Tensor last = cs.data().narrow(1, t - 1, 1).copy();
            Tensor tail = k > 1 ? xs.data().narrow(1, t, k - 1).copy() : null;
            state.advance(new Tensor[] {last, tail}, t);
        }
        Variable out = o.mul(cs);
        return proj == null ? out : out.matmul(proj.mT());
    }

    /** (B, T, 1) keep flags delayed by {@code d}, ones in front (positions before the row start). */
    private static Tensor delay(Tensor keep, int d) {
        if (d == 0) {
            return keep;
        }
        int t = keep.size(1);
        Tensor ones = Tensor.ones(keep.dtype(), keep.size(0), Math.min(d, t), 1).to(keep.device());
        return d >= t ? ones : Tensor.cat(1, ones, keep.narrow(1, 0, t - d));
    }

    /** x delayed by {@code d} along time, zeros in front: (B, T, H). */
    private static Variable shift(Variable x, int d) {
        Variable zeros = OnDevice.zeros(x, x.size(0), d, x.size(2));
        return Variable.cat(1, zeros, x.narrow(1, 0, x.size(1) - d));
    }

    @Override
    public String toString() {
        return "Qrnn(C=" + c + ", H=" + h + ", k=" + k + ", " + dtype + ")";
    }
}
