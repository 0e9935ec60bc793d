package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The convolution step shared by the long-convolution mixers ({@link LongConv}, and the FFT
 * convolutions of Hyena and SGConv): a per-channel causal convolution of x (B, T, C) with a kernel
 * (C, K), y_t = Σ_{j &lt; K, j ≤ t} k_j ⊙ x_{t−j}, through {@link Variable#causalConv} (FFT for
 * long kernels), restarting at packed documents' first tokens, and its decoding form.
 *
 * <p>A learned long kernel has no recurrence (unlike an SSM's), so decoding keeps the last
 * min(K, t) inputs and sums the window per new token: O(min(K, t)·C) per token, bounded by the
 * kernel length, not O(1).
 */
final class CausalLongConv {
    private CausalLongConv() {}

    /**
     * A whole explicit-kernel mixer step, y = K * x + D ⊙ x for x (B, T, C), kernel (C, K) and skip D
     * (C): checks the input, restarts at documents, and trains (state null) or decodes from the held
     * inputs in {@code state}; {@code who} names the mixer in one-line errors.
     */
    static Variable mix(String who, Variable x, AttentionMask mask, MixerState state, Variable kernel, Variable d) {
        int c = kernel.size(0);
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException(who + ": input must be (B, T, " + c + ") with T >= 1, got " + java.util.Arrays.toString(x.shape()));
        }
        Tensor keep = TokenMixer.carry(who, mask, x.size(0), x.size(1), state, x); // (B, T, 1) or null
        Variable skip = x.mul(d);
        if (state == null) {
            return train(x, kernel, keep).add(skip);
        }
        Tensor[] next = decode(state.tensors() == null ? null : state.tensors()[0], x.data(), kernel.data());
        state.advance(new Tensor[] {next[1]}, x.size(1));
        return Variable.constant(next[0]).add(skip);
    }

    /** y (B, T, C) for x (B, T, C) and kernel (C, K); {@code keep} (B, T, 1) from {@link TokenMixer#carry} or null. */
    static Variable train(Variable x, Variable kernel, Tensor keep) {
        if (keep == null) {
            return whole(x, kernel);
        }
        int t = x.size(1);
        Variable[] rows = new Variable[x.size(0)];
        for (int b = 0; b < rows.length; b++) {
            List<Variable> docs = new ArrayList<>();
            int start = 0;
            for (int s = 1; s <= t; s++) {
                if (s == t || keep.getDouble(b, s, 0) == 0) { // a document ends before s
                    docs.add(whole(x.narrow(0, b, 1).narrow(1, start, s - start), kernel));
                    start = s;
                }
            }
            rows[b] = docs.size() == 1 ? docs.get(0) : Variable.cat(1, docs.toArray(Variable[]::new));
        }
        return rows.length == 1 ? rows[0] : Variable.cat(0, rows);
    }

    private static Variable whole(Variable x, Variable kernel) {
        return x.transpose(1, 2).causalConv(kernel).transpose(1, 2); // (B, T, C)
    }

    /**
     * Decoding: the outputs (B, T, C) for the T new inputs x after the held {@code past} inputs
     * (B, n, C) or null, and the inputs to hold next (the last min(K, n + T)).
     */
    static Tensor[] decode(Tensor past, Tensor x, Tensor kernel) {
        int n = past == null ? 0 : past.size(1);
        int t = x.size(1);
        int k = kernel.size(1);
        Tensor xs = past == null ? x : Tensor.cat(1, past, x); // (B, n + T, C)
        Tensor y;
        if (t > 1) { // a prompt: one FFT convolution over the window, its last T outputs
            y = xs.transpose(1, 2).causalConv(kernel).transpose(1, 2).narrow(1, n, t);
        } else { // one token: y = Σ_j k_j ⊙ x_{n−j} over the held window
            int w = Math.min(k, n + 1);
            long[] back = new long[w];
            for (int j = 0; j < w; j++) {
                back[j] = n - j;
            }
            y = xs.indexSelect(1, Tensor.of(back, w).to(xs.device())).mul(kernel.transpose(0, 1).narrow(0, 0, w)).sum(true, 1); // (B, 1, C)
        }
        int held = Math.min(k, n + t);
        return new Tensor[] {y.contiguous(), xs.narrow(1, n + t - held, held).copy()};
    }
}
