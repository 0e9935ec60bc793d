package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E26: ByteNet's decoder (Kalchbrenner, Espeholt, Simonyan, van den Oord, Graves, Kavukcuoglu
 * 2016, "Neural Machine Translation in Linear Time"), a token mixer: a stack of residual blocks
 * with masked (causal) dilated convolutions whose dilation doubles from 1 to a maximum (1, 2, 4,
 * 8, 16 in the paper), so the receptive field grows exponentially with depth at linear cost.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, H = C/2 the block's inner width (the paper's d for 2d
 * channels), k the filter width, r_u the dilation of unit u.
 *
 *   h⁰ = x;   for u = 1 … U (r_u = 1, 2, 4, …, max, repeated per stack):          (Figure 3, left)
 *     a  = W_a ReLU(LN(h)) + b_a                                                    (B, T, H)  1×1
 *     c_t = Σ_{j=0}^{k−1} W_j ReLU(LN(a))_{t − (k−1−j)·r_u} + b_c                   (B, T, H)  masked 1×k, dilation r_u
 *     hᵘ = hᵘ⁻¹ + W_e ReLU(LN(c)) + b_e                                              (B, T, C)  1×1
 *   y = hᵁ − x      (the stack's residual increments; the decoder block adds x back)
 * </pre>
 *
 * Inputs before the row start (and, in packed rows, before the document start) read as zero. The
 * dilated convolution is PyTorch's {@code Conv1d(H, H, k, dilation=r)} on the input left-padded by
 * (k − 1)·r, with its weight layout (H, H, k): {@code unit<u>.conv.weight}, and is compared with it
 * by {@code ByteNetGoldenTest}. Other parameters: {@code unit<u>.ln_in/ln_mid/ln_out.*},
 * {@code unit<u>.reduce.*}, {@code unit<u>.expand.*}.
 *
 * <p><b>Decoding.</b> Each unit keeps the last (k − 1)·r_u inputs of its convolution, a fixed-size
 * window (B, (k − 1)·r_u, H) in the {@link MixerState}: O(1) per token in T. The paper's
 * source–target setup with dynamic unfolding (|t̂| = a|s| + b) is {@link ByteNetTranslator}, which
 * stacks this decoder on an encoder of the same blocks with non-masked convolutions.
 */
public final class ByteNet extends Module implements TokenMixer {

    /**
     * @param width k ≥ 1, the masked convolution's width (the paper's decoder uses 3)
     * @param hidden H, the inner width; 0 means C/2 (at least 1)
     * @param maxDilation the largest dilation, a power of two; one stack is 1, 2, 4, …, maxDilation
     * @param stacks how many times the stack of dilations repeats
     */
    public record Options(int width, int hidden, int maxDilation, int stacks) {
        public Options {
            if (width < 1 || hidden < 0 || maxDilation < 1 || Integer.bitCount(maxDilation) != 1 || stacks < 1) {
                throw new IllegalArgumentException("mixer bytenet: need width >= 1, hidden >= 0, max_dilation a power of two and stacks >= 1,"
                        + " got width=" + width + " hidden=" + hidden + " max_dilation=" + maxDilation + " stacks=" + stacks);
            }
        }
    }

    /**
     * One residual block (LN, ReLU, 1×1, LN, ReLU, dilated 1×k, LN, ReLU, 1×1); the caller lays out
     * the convolution's window (masked here, centred in {@link ByteNetTranslator}'s encoder).
     */
    static final class Unit extends Module {
        final int dilation;
        final LayerNorm lnIn;
        final Linear reduce;
        final LayerNorm lnMid;
        final Variable convW;
        final Variable convB;
        final LayerNorm lnOut;
        final Linear expand;

        Unit(int c, int h, int k, int dilation, DType dtype, Generator g) {
            this.dilation = dilation;
            lnIn = child("ln_in", new LayerNorm(c, 1e-5, true, true, dtype));
            reduce = child("reduce", new Linear(c, h, true, Tensor.randn(g, dtype, h, c).mul(1 / Math.sqrt(c))));
            lnMid = child("ln_mid", new LayerNorm(h, 1e-5, true, true, dtype));
            Group conv = child("conv", new Group());
            convW = conv.add("weight", Tensor.randn(g, dtype, h, h, k).mul(1 / Math.sqrt(h * k)));
            convB = conv.add("bias", Tensor.zeros(dtype, h));
            lnOut = child("ln_out", new LayerNorm(h, 1e-5, true, true, dtype));
            expand = child("expand", new Linear(h, c, true, Tensor.randn(g, dtype, c, h).mul(1 / Math.sqrt(h))));
        }

        /** ReLU(LN(W_a ReLU(LN(h)) + b_a)), the convolution's input (B, T, H). */
        Variable convInput(Variable hs) {
            return lnMid.forward(reduce.forward(lnIn.forward(hs).relu())).relu();
        }

        /** h + W_e ReLU(LN(c)) + b_e for the convolution's output c (B, T, H). */
        Variable residual(Variable hs, Variable conv) {
            return hs.add(expand.forward(lnOut.forward(conv).relu()));
        }
    }

    private final int c;
    private final int h;
    private final Options o;
    private final DType dtype;
    private final Unit[] units;

    public ByteNet(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer bytenet: width must be positive, got " + dim);
        }
        this.c = dim;
        this.h = o.hidden() == 0 ? Math.max(1, dim / 2) : o.hidden();
        this.o = o;
        this.dtype = dtype;
        int perStack = Integer.numberOfTrailingZeros(o.maxDilation()) + 1;
        units = new Unit[perStack * o.stacks()];
        for (int u = 0; u < units.length; u++) {
            units[u] = child("unit" + u, new Unit(dim, h, o.width(), 1 << (u % perStack), dtype, g));
        }
    }

    /** The dilations, unit by unit. */
    public int[] dilations() {
        int[] d = new int[units.length];
        for (int u = 0; u < d.length; u++) {
            d[u] = units[u].dilation;
        }
        return d;
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (x.rank() != 3 || x.size(2) != c || x.size(1) == 0) {
            throw new IllegalArgumentException("mixer bytenet: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        Tensor keep = TokenMixer.carry("mixer bytenet", mask, b, t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Tensor[] next = new Tensor[units.length];
        Variable hs = x;
        for (int u = 0; u < units.length; u++) {
            Unit unit = units[u];
            Variable a = unit.convInput(hs); // (B, T, H)
            int pad = (o.width() - 1) * unit.dilation;
            Tensor past = pad == 0 ? null : held == null ? Tensor.zeros(x.data().device(), x.dtype(), b, pad, h) : held[u];
            Variable window = pad == 0 ? a : Variable.cat(1, Variable.constant(past), a); // (B, pad + T, H)
            Variable conv = dilatedConv(window, unit.convW, unit.convB, unit.dilation, t, keep);
            hs = unit.residual(hs, conv);
            next[u] = pad == 0 ? null : window.data().narrow(1, t, pad).copy();
        }
        if (state != null) {
            state.advance(next, t);
        }
        return hs.sub(x);
    }

    /**
     * The masked dilated convolution for the last {@code t} positions of {@code window} (B, P + T, H),
     * P = (k − 1)·r the held (or zero) inputs in front: c_t = Σ_j W[:, :, j] a_{t − (k−1−j)·r} + b,
     * PyTorch's Conv1d weight layout (out, in, k). {@code keep} (B, T, 1) or null zeroes the taps that
     * reach back across a document start.
     */
    static Variable dilatedConv(Variable window, Variable weight, Variable bias, int dilation, int t, Tensor keep) {
        int k = weight.size(2);
        int pad = window.size(1) - t;
        int[] segment = keep == null ? null : segments(keep);
        Variable out = null;
        for (int j = 0; j < k; j++) {
            int lag = (k - 1 - j) * dilation;
            Variable tap = window.narrow(1, pad - lag, t);
            if (segment != null && lag > 0) {
                tap = tap.mul(Variable.constant(sameDocument(segment, keep.size(0), t, lag, keep.dtype()).to(keep.device())));
            }
            Variable term = tap.matmul(weight.narrow(2, j, 1).squeeze(2).mT()); // (B, T, H)
            out = out == null ? term : out.add(term);
        }
        return out.add(bias);
    }

    /** The document index of every position, (B·T), counting starts (keep = 0) along each row. */
    private static int[] segments(Tensor keep) {
        int b = keep.size(0);
        int t = keep.size(1);
        int[] s = new int[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = 1; i < t; i++) {
                s[r * t + i] = s[r * t + i - 1] + (keep.getDouble(r, i, 0) == 0 ? 1 : 0);
            }
        }
        return s;
    }

    /** (B, T, 1): 1 where position t − lag exists and is in t's document. */
    private static Tensor sameDocument(int[] segment, int b, int t, int lag, DType dtype) {
        double[] m = new double[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = lag; i < t; i++) {
                m[r * t + i] = segment[r * t + i] == segment[r * t + i - lag] ? 1 : 0;
            }
        }
        return Tensor.of(m, b, t, 1).to(dtype);
    }

    @Override
    public String toString() {
        return "ByteNet(C=" + c + ", H=" + h + ", k=" + o.width() + ", dilations=" + java.util.Arrays.toString(dilations()) + ", " + dtype + ")";
    }
}
