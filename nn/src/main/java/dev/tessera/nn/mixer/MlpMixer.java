package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E3: MLP-Mixer's token-mixing MLP (Tolstikhin, Houlsby, Kolesnikov, Beyer, Zhai, Unterthiner,
 * Yung, Steiner, Keysers, Uszkoreit, Lucic, Dosovitskiy 2021, "MLP-Mixer: An all-MLP Architecture
 * for Vision", NeurIPS) as a token mixer: an MLP over the sequence axis, shared by every channel
 * (the block's norm and residual are the model's).
 *
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, D_S the token-MLP width (option hidden).
 *
 *   U[:, :, c] = W₂ · GELU(W₁ · X[:, :, c] + b₁) + b₂      W₁ (D_S, n), W₂ (n, D_S)   per channel c   (B, T, C)
 * </pre>
 *
 * Names are timm's {@code MixerBlock.mlp_tokens} ({@code fc1}, {@code fc2}); a sequence shorter
 * than n uses the first T columns of W₁ and rows of W₂, b₂ (the paper fixes T = n).
 *
 * <p>{@code causal=true} (the default; the decoders take it) needs D_S = n: hidden unit j belongs
 * to position j, and W₁, W₂ are masked lower-triangular, so
 * U_t = Σ_{j≤t} W₂[t, j] · GELU(Σ_{s≤j} W₁[j, s] X_s + b₁[j]) + b₂[t] reads only positions ≤ t (a
 * causal token-mixing weight, as all-MLP language models mask theirs, e.g. Yu et al. 2022
 * "Efficient Language Modeling with Sparse all-MLP"; the paper itself is bidirectional). Decoding caches the past inputs X and hidden rows H
 * in the {@link MixerState}: O(t·C) per token, at most n rows each. {@code causal=false}: the
 * paper's bidirectional MLP, for the BERT encoder. Packed documents and padding runs
 * ({@link Segments}) each go through the MLP alone, from their own first position.
 */
public final class MlpMixer extends Module implements TokenMixer {

    /**
     * @param length n, the longest sequence
     * @param hidden D_S, the token-MLP width; 0 means n (and causal needs n)
     * @param causal whether the weights are lower-triangular (decoders) or full (encoders)
     */
    public record Options(int length, int hidden, boolean causal) implements MixerKind.Directional {
        public Options {
            if (length < 1 || hidden < 0 || causal && hidden != 0 && hidden != length) {
                throw new IllegalArgumentException("mixer mlp_mixer: need length >= 1, hidden >= 0, and hidden 0 or = length when causal, got length="
                        + length + " hidden=" + hidden + " causal=" + causal);
            }
        }
    }

    private final String who = "mixer mlp_mixer";
    private final int dim;
    private final int n;
    private final int hidden;
    private final boolean causal;
    private final Linear fc1;
    private final Linear fc2;

    /** A token-mixing MLP over width {@code dim}, initialised from {@code g} (PyTorch's Linear initialisation). */
    public MlpMixer(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.n = o.length();
        this.hidden = o.hidden() == 0 ? n : o.hidden();
        this.causal = o.causal();
        fc1 = child("fc1", new Linear(n, hidden, true, Tensor.randn(g, dtype, hidden, n).mul(1 / Math.sqrt(n))));
        fc2 = child("fc2", new Linear(hidden, n, true, Tensor.randn(g, dtype, n, hidden).mul(1 / Math.sqrt(hidden))));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, causal, x, dim, mask, state);
        int t = x.size(1);
        if (state != null) { // causal decoding: hidden rows p … p+T−1 from the cached inputs, outputs from the cached hidden rows
            int p = state.length();
            Directions.fits(who, p + t, n);
            Variable xs = p == 0 ? x : Variable.cat(1, Variable.constant(state.tensors()[0]), x); // (B, p+T, C)
            Variable h = Segments.decodingRows(fc1.weight(), p, t).matmul(xs).add(fc1.bias().narrow(0, p, t).reshape(t, 1)).gelu(); // (B, T, C)
            Variable hs = p == 0 ? h : Variable.cat(1, Variable.constant(state.tensors()[1]), h); // (B, p+T, C)
            state.advance(new Tensor[] {xs.data().contiguous(), hs.data().contiguous()}, t);
            return Segments.decodingRows(fc2.weight(), p, t).matmul(hs).add(fc2.bias().narrow(0, p, t).reshape(t, 1)); // (B, T, C)
        }
        Directions.fits(who, s.longest(), n);
        if (causal) { // hidden j is position j: per-run lower-triangular weights, one batched product each
            Variable h = s.perRun(fc1.weight(), true).matmul(x).add(s.perRunBias(fc1.bias())).gelu(); // (B, T, C)
            return s.perRun(fc2.weight(), true).matmul(h).add(s.perRunBias(fc2.bias())); // (B, T, C)
        }
        return s.eachRun(x, this::mix); // (B, T, C), each packed document / padding run alone
    }

    /** The bidirectional token MLP on x (B, L, C), L ≤ n. */
    private Variable mix(Variable x) {
        int l = x.size(1);
        Variable h = fc1.weight().narrow(1, 0, l).matmul(x).add(fc1.bias().reshape(hidden, 1)).gelu(); // (B, D_S, C)
        return fc2.weight().narrow(0, 0, l).matmul(h).add(fc2.bias().narrow(0, 0, l).reshape(l, 1)); // (B, L, C)
    }

    @Override
    public String toString() {
        return "MlpMixer(C=" + dim + ", n=" + n + ", D_S=" + hidden + (causal ? ", causal" : "") + ")";
    }
}
