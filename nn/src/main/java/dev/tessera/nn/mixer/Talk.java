package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E23: time-aware large kernel convolution, TaLK (Lioutas and Guo 2020, "Time-aware Large Kernel
 * Convolutions", ICML), a token mixer: every token predicts how far back its averaging window
 * reaches, and the window average is read from prefix sums in O(1) per token, whatever the window.
 * Causal (decoder) form: the right offset is zero.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, H heads (C/H channels each), l_max the largest offset.
 *
 *   a_t = l_max · σ(W_a x_t + b_a)                                     (B, T, H)  per-head left offsets
 *   S_t = Σ_{s ≤ t} x_s,  S_q = 0 for q &lt; 0                            (B, T, C)  prefix sums
 *   S̃(p) = (1 − f) S_⌊p⌋ + f S_⌊p⌋+1,  f = p − ⌊p⌋                     interpolated at a fractional end
 *   o_t = (S_t − S̃(t − a_t − 1)) / (a_t + 1)                          the mean of x over [t − a_t, t]
 *   y_t = W_o o_t + b_o
 * </pre>
 *
 * For an integer offset k the window is exactly x_{t−k} … x_t; between integers the far end is
 * interpolated, so a_t gets a gradient (the paper's interpolated window ends). Positions before the
 * row (or, in packed rows, before the document) read as zero: the window is clipped there but keeps
 * the divisor a_t + 1, as zero padding would. Parameters: {@code offset.*} (H, C), {@code out_proj.*}
 * (C, C). Not implemented: the GLU input projection and the offset dropout of the paper's block.
 * Prefix sums in F32 lose precision over very long rows (differences of large sums), as in the paper.
 *
 * <p><b>Decoding.</b> The {@link MixerState} holds the last ⌈l_max⌉ + 2 prefix sums (B, ·, C), a
 * fixed-size window: O(1) per token in T. Paper only (REFERENCES.md): no golden fixture.
 */
public final class Talk extends Module implements TokenMixer {

    /**
     * @param heads H, dividing C: channels of a head share their offset
     * @param maxLeft l_max &gt; 0, the largest left offset
     */
    public record Options(int heads, double maxLeft) {
        public Options {
            if (heads < 1 || !(maxLeft > 0)) {
                throw new IllegalArgumentException("mixer talk: need heads >= 1 and max_left > 0, got heads=" + heads + " max_left=" + maxLeft);
            }
        }
    }

    private final int c;
    private final Options o;
    private final DType dtype;
    private final int held;
    private final Linear offset;
    private final Linear outProj;

    public Talk(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0 || dim % o.heads() != 0) {
            throw new IllegalArgumentException("mixer talk: width must be a positive multiple of heads=" + o.heads() + ", got " + dim);
        }
        this.c = dim;
        this.o = o;
        this.dtype = dtype;
        this.held = (int) Math.ceil(o.maxLeft()) + 2;
        offset = child("offset", new Linear(dim, o.heads(), true, Tensor.randn(g, dtype, o.heads(), dim).mul(1 / Math.sqrt(dim))));
        outProj = child("out_proj", new Linear(dim, dim, true, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer talk: input must be (B, T, " + c + ") with T >= 1, got " + java.util.Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        int h = o.heads();
        Tensor keep = TokenMixer.carry("mixer talk", mask, b, t, state, x); // (B, T, 1) or null
        int n = state == null ? 0 : state.length();
        Tensor past = state == null || state.tensors() == null ? Tensor.zeros(x.data().device(), x.dtype(), b, held, c)
                : state.tensors()[0]; // S_{n−W} … S_{n−1}
        Variable prefix = x.cumsum(1).add(Variable.constant(past.narrow(1, held - 1, 1))); // S_n … S_{n+T−1}
        Variable window = Variable.cat(1, Variable.constant(past), prefix); // (B, W + T, C), local index = global + W − n
        Variable a = offset.forward(x).sigmoid().mul(o.maxLeft()); // (B, T, H)
        Variable ac = a.unsqueeze(3).expand(b, t, h, c / h).reshape(b, t, c); // (B, T, C)
        double[] floorLocal = new double[b * t * c];
        double[] lowest = lowestEnd(keep, b, t, n);
        double[] av = ac.data().toDoubleArray();
        double[] pv = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int ch = 0; ch < c; ch++) {
                    int at = (r * t + i) * c + ch;
                    pv[at] = Math.max(n + i - av[at] - 1, lowest[r * t + i]);
                    floorLocal[at] = Math.floor(pv[at]) + held - n;
                }
            }
        }
        // p = max(t − a − 1, lowest): differentiable in a where the window is not clipped
        Variable pos = OnDevice.constant(Tensor.arange(n, n + t, 1, x.dtype()).reshape(1, t, 1).sub(1.0), x).sub(ac);
        Variable p = pos.maximum(OnDevice.constant(Tensor.of(lowest, b, t, 1), x));
        Tensor lo = OnDevice.of(Tensor.of(floorLocal, b, t, c), x); // ⌊p⌋ as a local index
        Variable f = p.sub(Variable.constant(lo.sub(held - n).to(x.dtype()))); // (B, T, C) in [0, 1)
        Tensor loIdx = lo.to(DType.I64);
        Tensor hiIdx = lo.add(1).to(DType.I64);
        Variable far = window.gather(1, loIdx).mul(f.rsub(1)).add(window.gather(1, hiIdx).mul(f));
        Variable mean = prefix.sub(far).div(ac.add(1)); // (B, T, C)
        if (state != null) {
            state.advance(new Tensor[] {window.data().narrow(1, t, held).copy()}, t);
        }
        return outProj.forward(mean);
    }

    /** Per position, the lowest far end: one before its document's (or the row's) first position; (B·T). */
    private static double[] lowestEnd(Tensor keep, int b, int t, int n) {
        double[] low = new double[b * t];
        for (int r = 0; r < b; r++) {
            int start = 0;
            for (int i = 0; i < t; i++) {
                if (keep != null && keep.getDouble(r, i, 0) == 0) {
                    start = i;
                }
                low[r * t + i] = keep == null ? -1 : start - 1 + n;
            }
        }
        return low;
    }

    @Override
    public String toString() {
        return "Talk(C=" + c + ", H=" + o.heads() + ", l_max=" + o.maxLeft() + ", " + dtype + ")";
    }
}
