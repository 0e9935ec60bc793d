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
 * E9: the Hyena operator (Poli, Massaroli, Nguyen, Fu, Dao, Baccus, Bengio, Ermon, Ré 2023, "Hyena
 * Hierarchy: Towards Larger Convolutional Language Models", ICML), a token mixer: N long
 * convolutions with implicitly parametrised filters, interleaved with elementwise gates.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, N order, L the filter length (option length), E positional
 * features, H filter-MLP width.
 *
 *   (x¹, …, xᴺ, v) = split(ShortConv(W_in u + b_in))          (B, T, C) each; ShortConv a causal depthwise width-3 conv
 *   z¹ = v,   zⁿ⁺¹_t = xⁿ_t ⊙ ((hⁿ * zⁿ)_t + Dⁿ ⊙ zⁿ_t),   n = 1 … N     (Definition 3.1, with the implementation's skip D)
 *   y_t = W_out zᴺ⁺¹_t + b_out
 *
 * Implicit filters (section 3.3), one channel per (n, c):
 *   PE(t) = [t/(L−1), cos(f_b ω_t), −sin(f_b ω_t)],  ω_t = 2πt/L, f_b = linspace(10⁻⁴, E/2 − 3/2), b &lt; (E − 1)/2
 *   h(t) = Window(t) ⊙ FFN(PE(t)),   FFN = Linear(E, H) → Sin → [Linear(H, H) → Sin]×depth → Linear(H, N·C)
 *   Sin(a) = sin(φ ⊙ a) with learned frequencies φ (init 1);   Window(t) = exp(−α_c t/(L−1)),
 *   α_c = linspace(ln 100 / 0.3, ln 100 / 1.5) over the N·C channels (fast to slow decay)
 * </pre>
 *
 * The convolutions h * z run through the tensor core's real-FFT causal convolution
 * ({@link Variable#causalConv}); position t never sees t' &gt; t. Parameters: {@code in_proj.*},
 * {@code short_conv.weight} ((N+1)C, 3), {@code short_conv.bias}, {@code filter.in.*},
 * {@code filter.freq<i>}, {@code filter.hidden<i>.*}, {@code filter.out.*}, {@code D} (N·C, zero),
 * {@code out_proj.*}.
 *
 * <p><b>Reference.</b> flash-linear-attention's {@code ImplicitLongConvolution} (compared by
 * {@code HyenaGoldenTest}) is this filter with ReLU in place of Sin, depth 0 and no window, and its
 * {@code fft_conv} adds a fixed skip (D = 1); options {@code activation=relu depth=0 decay=false}
 * give fla's filter. The gating recursion above is paper only. The H3 layer (shift and diagonal SSMs)
 * is not implemented.
 *
 * <p><b>Decoding.</b> The implicit filter has no recurrent form, so the {@link MixerState} holds the
 * last inputs of every convolution: 3 projected inputs for the short conv and the last min(L, t) of
 * each zⁿ; a token costs O(N·min(L, t)·C) plus the filter MLP over min(L, t) positions: bounded by
 * L, not O(1). Packed documents restart every convolution at their first token.
 */
public final class Hyena extends Module implements TokenMixer {
    private static final int SHORT = 3;

    /** The filter MLP's nonlinearity: the paper's sine with learned frequencies, or fla's ReLU. */
    public enum Activation { SIN, RELU }

    /**
     * @param order N ≥ 1, the number of long convolutions (and gates)
     * @param length L, the filter length: taps past it are zero
     * @param emb E, odd and ≥ 3, the positional features
     * @param hidden H, the filter MLP's width
     * @param depth the filter MLP's hidden-to-hidden layers
     * @param activation sin (the paper) or relu (fla)
     * @param decay the exponential window on the filters (the paper) or none (fla)
     */
    public record Options(int order, int length, int emb, int hidden, int depth, Activation activation, boolean decay) {
        public Options {
            if (order < 1 || length < 1 || emb < 3 || emb % 2 == 0 || hidden < 1 || depth < 0 || activation == null) {
                throw new IllegalArgumentException("mixer hyena: need order >= 1, length >= 1, odd emb >= 3, hidden >= 1 and depth >= 0, got order="
                        + order + " length=" + length + " emb=" + emb + " hidden=" + hidden + " depth=" + depth);
            }
        }
    }

    private final int c;
    private final Options o;
    private final DType dtype;
    private final Tensor positions; // (L, E)
    private final Tensor window; // (N·C, L)
    private final Linear inProj;
    private final Variable shortW;
    private final Variable shortB;
    private final Linear fIn;
    private final Variable[] freqs;
    private final Linear[] fHidden;
    private final Linear fOut;
    private final Variable d;
    private final Linear outProj;

    public Hyena(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException("mixer hyena: width must be positive, got " + dim);
        }
        this.c = dim;
        this.o = o;
        this.dtype = dtype;
        int n = o.order();
        int h = o.hidden();
        positions = positionalFeatures(o.length(), o.emb()).to(dtype);
        window = decayWindow(n * dim, o.length(), o.decay()).to(dtype);
        inProj = child("in_proj", new Linear(dim, (n + 1) * dim, true, Tensor.randn(g, dtype, (n + 1) * dim, dim).mul(1 / Math.sqrt(dim))));
        Group conv = child("short_conv", new Group());
        shortW = conv.add("weight", Tensor.randn(g, dtype, (n + 1) * dim, SHORT).mul(1 / Math.sqrt(SHORT)));
        shortB = conv.add("bias", Tensor.zeros(dtype, (n + 1) * dim));
        Group filter = child("filter", new Group());
        fIn = filter.add("in", new Linear(o.emb(), h, true, Tensor.randn(g, dtype, h, o.emb()).mul(1 / Math.sqrt(o.emb()))));
        boolean sin = o.activation() == Activation.SIN;
        freqs = new Variable[sin ? o.depth() + 1 : 0];
        for (int i = 0; i < freqs.length; i++) {
            freqs[i] = filter.add("freq" + i, Tensor.ones(dtype, h));
        }
        fHidden = new Linear[o.depth()];
        for (int i = 0; i < o.depth(); i++) {
            fHidden[i] = filter.add("hidden" + i, new Linear(h, h, true, Tensor.randn(g, dtype, h, h).mul(1 / Math.sqrt(h))));
        }
        fOut = filter.add("out", new Linear(h, n * dim, true, Tensor.randn(g, dtype, n * dim, h).mul(1 / Math.sqrt(h))));
        d = parameter("D", Tensor.zeros(dtype, n * dim));
        outProj = child("out_proj", new Linear(dim, dim, true, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
    }

    /** PE (L, E): t/(L−1), then cos and −sin of f_b·2πt/L (fla's and the paper code's PositionalEmbedding). */
    static Tensor positionalFeatures(int length, int emb) {
        int bands = (emb - 1) / 2;
        double[] pe = new double[length * emb];
        for (int t = 0; t < length; t++) {
            double w = 2 * Math.PI * t / length;
            pe[t * emb] = length == 1 ? 0 : (double) t / (length - 1);
            for (int b = 0; b < bands; b++) {
                double f = bands == 1 ? 1e-4 : 1e-4 + (bands - 1 - 1e-4) * b / (bands - 1);
                pe[t * emb + 1 + b] = Math.cos(f * w);
                pe[t * emb + 1 + bands + b] = -Math.sin(f * w);
            }
        }
        return Tensor.of(pe, length, emb);
    }

    /** exp(−α_c t/(L−1)) (channels, L), α_c from fast (ln 100 / 0.3) to slow (ln 100 / 1.5); ones without decay. */
    static Tensor decayWindow(int channels, int length, boolean decay) {
        double[] w = new double[channels * length];
        double fast = Math.log(100) / 0.3;
        double slow = Math.log(100) / 1.5;
        for (int ch = 0; ch < channels; ch++) {
            double alpha = channels == 1 ? fast : fast + (slow - fast) * ch / (channels - 1);
            for (int t = 0; t < length; t++) {
                w[ch * length + t] = decay ? Math.exp(-alpha * (length == 1 ? 0 : (double) t / (length - 1))) : 1;
            }
        }
        return Tensor.of(w, channels, length);
    }

    /** The N filters over the first {@code taps} positions (capped at L): (N·C, taps), filter n's channels at rows (n−1)C … nC − 1. */
    public Variable filter(int taps) {
        int l = Math.min(taps, o.length());
        Variable a = activate(fIn.forward(OnDevice.constant(positions.narrow(0, 0, l), fIn.weight())), 0); // (l, H)
        for (int i = 0; i < fHidden.length; i++) {
            a = activate(fHidden[i].forward(a), i + 1);
        }
        Variable k = fOut.forward(a).mT(); // (N·C, l)
        return o.decay() ? k.mul(OnDevice.constant(window.narrow(1, 0, l), k)) : k;
    }

    private Variable activate(Variable a, int layer) {
        return o.activation() == Activation.SIN ? a.mul(freqs[layer]).sin() : a.relu();
    }

    @Override
    public Variable forward(Variable u, AttentionMask mask, MixerState state) {
        if (u.rank() != 3 || u.size(2) != c || u.size(1) == 0) {
            throw new IllegalArgumentException("mixer hyena: input must be (B, T, " + c + ") with T >= 1, got "
                    + java.util.Arrays.toString(u.shape()));
        }
        int t = u.size(1);
        int n = o.order();
        Tensor keep = TokenMixer.carry("mixer hyena", mask, u.size(0), t, state, u); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Tensor[] next = state == null ? null : new Tensor[n + 1];
        int past = state == null ? 0 : state.length();
        Variable p = inProj.forward(u); // (B, T, (N+1)C)
        p = convolve(p, shortW, keep, held, next, 0).add(shortB);
        Variable k = filter(past + t); // (N·C, ≤ past + T)
        Variable z = p.narrow(2, n * c, c); // v
        for (int i = 0; i < n; i++) {
            Variable hz = convolve(z, k.narrow(0, i * c, c), keep, held, next, i + 1);
            z = p.narrow(2, i * c, c).mul(hz.add(z.mul(d.narrow(0, i * c, c)))); // (B, T, C)
        }
        if (state != null) {
            state.advance(next, t);
        }
        return outProj.forward(z);
    }

    /** Training: the FFT causal conv; decoding: from held slot {@code slot}, writing the inputs to hold next into {@code next}. */
    private static Variable convolve(Variable x, Variable kernel, Tensor keep, Tensor[] held, Tensor[] next, int slot) {
        if (next == null) {
            return CausalLongConv.train(x, kernel, keep);
        }
        Tensor[] r = CausalLongConv.decode(held == null ? null : held[slot], x.data(), kernel.data());
        next[slot] = r[1];
        return Variable.constant(r[0]);
    }

    @Override
    public String toString() {
        return "Hyena(C=" + c + ", N=" + o.order() + ", L=" + o.length() + ", " + o.activation().name().toLowerCase(java.util.Locale.ROOT)
                + (o.decay() ? ", decay" : "") + ", " + dtype + ")";
    }
}
