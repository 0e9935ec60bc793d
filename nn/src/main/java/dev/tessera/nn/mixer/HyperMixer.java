package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E5: HyperMixer (Mai, Pannatier, Fehr, Chen, Marelli, Fleuret, Henderson 2023, "HyperMixer: An
 * MLP-based Low Cost Alternative to Transformers", ACL): MLP-Mixer's token mixing with weights
 * generated per token by hypernetworks, so it takes any length and is equivariant to reordering
 * up to the position embeddings.
 *
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, D the hidden width (option hidden, 0 = C).
 *
 *   z_t = x_t + p_t                                   p (n, C) learned positions, {@code positions}
 *   W₁ = h₁(z), W₂ = h₂(z)                            (B, T, D), h = Linear(C, D) → GELU → Linear(D, D) per token
 *   y = W₂ · GELU(W₁ᵀ x)                               W₁ᵀ x (B, D, C): the token-mixing MLP's hidden layer
 * </pre>
 *
 * {@code causal=false}: the paper's form, for the BERT encoder. {@code causal=true} (the default;
 * the decoders take it): the sum inside W₁ᵀ x runs over the past only,
 * y_t = W₂[t] · GELU(S_t), S_t = Σ_{s≤t} W₁[s]ᵀ x_s — a prefix sum, so decoding keeps S (D × C)
 * and costs O(1) per token (a masking of ours: the paper's mixing is bidirectional). Packed
 * documents and padding runs ({@link Segments}) are each mixed alone, their positions from 0.
 */
public final class HyperMixer extends Module implements TokenMixer {

    /**
     * @param length n, the longest sequence (the position table)
     * @param hidden D, the generated weights' width; 0 means C
     * @param causal whether the token sum runs over the past only (decoders) or the whole sequence (encoders)
     */
    public record Options(int length, int hidden, boolean causal) implements MixerKind.Directional {
        public Options {
            if (length < 1 || hidden < 0) {
                throw new IllegalArgumentException("mixer hypermixer: need length >= 1 and hidden >= 0, got length=" + length + " hidden=" + hidden);
            }
        }
    }

    /** A per-token hypernetwork h: Linear(C, D) → GELU → Linear(D, D). */
    static final class Hyper extends Module {
        final Linear fc1;
        final Linear fc2;

        Hyper(int c, int d, DType dtype, Generator g) {
            fc1 = child("fc1", new Linear(c, d, true, Tensor.randn(g, dtype, d, c).mul(1 / Math.sqrt(c))));
            fc2 = child("fc2", new Linear(d, d, true, Tensor.randn(g, dtype, d, d).mul(1 / Math.sqrt(d))));
        }

        Variable forward(Variable z) {
            return fc2.forward(fc1.forward(z).gelu());
        }
    }

    private final String who = "mixer hypermixer";
    private final int dim;
    private final int n;
    private final int d;
    private final boolean causal;
    private final Variable positions;
    private final Hyper hyper1;
    private final Hyper hyper2;

    /** A HyperMixer over width {@code dim}, initialised from {@code g} (positions N(0, 0.02²)). */
    public HyperMixer(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.n = o.length();
        this.d = o.hidden() == 0 ? dim : o.hidden();
        this.causal = o.causal();
        positions = parameter("positions", Tensor.randn(g, dtype, n, dim).mul(0.02));
        hyper1 = child("hyper1", new Hyper(dim, d, dtype, g));
        hyper2 = child("hyper2", new Hyper(dim, d, dtype, g));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, causal, x, dim, mask, state);
        if (state == null) {
            Directions.fits(who, s.longest(), n);
            return s.eachRun(x, run -> mix(run, null)); // (B, T, C), each packed document / padding run alone
        }
        Directions.fits(who, state.length() + x.size(1), n);
        return mix(x, state);
    }

    /** One run x (B, L, C) from position 0, or (causal decoding) from the state's position and prefix sum S. */
    private Variable mix(Variable x, MixerState state) {
        int b = x.size(0);
        int l = x.size(1);
        int p = state == null ? 0 : state.length();
        Variable z = x.add(positions.narrow(0, p, l)); // (B, L, C)
        Variable w1 = hyper1.forward(z); // (B, L, D)
        Variable w2 = hyper2.forward(z); // (B, L, D)
        if (!causal) {
            return w2.matmul(w1.mT().matmul(x).gelu()); // (B, L, C)
        }
        Variable sums = w1.unsqueeze(3).mul(x.unsqueeze(2)).cumsum(1); // (B, L, D, C): S_t − S_{−1}
        Tensor[] held = state == null ? null : state.tensors();
        if (held != null) {
            sums = sums.add(Variable.constant(held[0])); // + S_{p−1} (B, 1, D, C)
        }
        if (state != null) {
            state.advance(new Tensor[] {sums.data().narrow(1, l - 1, 1).contiguous()}, l);
        }
        return w2.unsqueeze(2).matmul(sums.gelu()).reshape(b, l, dim); // (B, L, C)
    }

    @Override
    public String toString() {
        return "HyperMixer(C=" + dim + ", D=" + d + ", n=" + n + (causal ? ", causal" : "") + ")";
    }
}
