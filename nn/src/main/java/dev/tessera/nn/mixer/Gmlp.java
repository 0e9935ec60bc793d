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
 * E2: gMLP's spatial gating unit (Liu, Dai, So, Le 2021, "Pay Attention to MLPs", NeurIPS) as a
 * token mixer: the gMLP block without its residual and input norm (the model's own), mixing tokens
 * through one learned n × n spatial projection that gates half of the channels.
 *
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, F gate width (option hidden, 0 = C).
 *
 *   Z = GELU(X U + u₀)                              (B, T, 2F)   fc1
 *   Z₁, Z₂ = split(Z)                               (B, T, F) each
 *   s(Z) = Z₁ ⊙ (W · LN(Z₂) + b)                    W (n, n) over time, b (n)    gate.norm, gate.proj
 *   Y = s(Z) V + v₀                                 (B, T, C)    fc2
 * </pre>
 *
 * Initialised as the paper says (§2): W near zero and b = 1, so s(Z) ≈ Z₁ and the block starts as
 * a plain FFN ({@link PaperInit}; the paper's "near-zero" is timm's N(0, 10⁻⁶)). Names are timm's
 * {@code GatedMlp} with {@code SpatialGatingUnit} ({@code fc1}, {@code gate.norm}, {@code gate.proj},
 * {@code fc2}). A sequence shorter than n uses W[:T, :T] and b[:T] (timm fixes T = n).
 *
 * <p>{@code causal=true} (the default; the decoders take it): W is masked lower-triangular, so
 * position t reads LN(Z₂) at positions ≤ t only (a masking of ours for the decoders: the paper
 * trains its gMLPs bidirectionally). Decoding caches the past LN(Z₂) rows in the {@link MixerState}: a
 * token costs O(t·F) and the state grows to at most n rows, like a bounded KV cache (not O(1): the
 * spatial weight reads every past position). {@code causal=false}: the paper's bidirectional gate,
 * for the BERT encoder. Packed documents (and padding runs) each use W and b from their own first
 * position on ({@link Segments}), so no document reads another.
 */
public final class Gmlp extends Module implements TokenMixer, PaperInit {

    /**
     * @param length n, the longest sequence (the spatial weight is n × n)
     * @param hidden F, the gated width (fc1 gives 2F); 0 means C
     * @param causal whether W is lower-triangular (decoders) or full (encoders)
     */
    public record Options(int length, int hidden, boolean causal) implements MixerKind.Directional {
        public Options {
            if (length < 1 || hidden < 0) {
                throw new IllegalArgumentException("mixer gmlp: need length >= 1 and hidden >= 0, got length=" + length + " hidden=" + hidden);
            }
        }
    }

    /** {@code gate}: the LayerNorm over Z₂ and the spatial projection over time. */
    static final class Gate extends Module {
        final LayerNorm norm;
        final Linear proj;

        Gate(int f, int n, DType dtype) {
            norm = child("norm", new LayerNorm(f, 1e-5, true, true, dtype));
            proj = child("proj", new Linear(n, n, true, Tensor.zeros(dtype, n, n)));
        }
    }

    private final String who = "mixer gmlp";
    private final int dim;
    private final int f;
    private final int n;
    private final boolean causal;
    private final Linear fc1;
    private final Gate gate;
    private final Linear fc2;

    /** A gating unit over width {@code dim}, initialised from {@code g} (PyTorch's Linear init for fc1/fc2, the paper's for the gate). */
    public Gmlp(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.f = o.hidden() == 0 ? dim : o.hidden();
        this.n = o.length();
        this.causal = o.causal();
        fc1 = child("fc1", new Linear(dim, 2 * f, true, Tensor.randn(g, dtype, 2 * f, dim).mul(1 / Math.sqrt(dim))));
        gate = child("gate", new Gate(f, n, dtype));
        fc2 = child("fc2", new Linear(f, dim, true, Tensor.randn(g, dtype, dim, f).mul(1 / Math.sqrt(f))));
        initialiseAsPaper(g);
    }

    @Override
    public void initialiseAsPaper(Generator g) {
        gate.proj.weight().data().copyFromInPlace(Tensor.randn(g, gate.proj.weight().dtype(), n, n).mul(1e-6));
        gate.proj.bias().data().fillInPlace(1);
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, causal, x, dim, mask, state);
        Variable z = fc1.forward(x).gelu(); // (B, T, 2F)
        int t = x.size(1);
        Variable u = z.narrow(2, 0, f); // (B, T, F)
        Variable v = gate.norm.forward(z.narrow(2, f, f)); // (B, T, F)
        Variable mixed;
        if (state != null) { // causal decoding: rows p … p+T−1 of W against the cached LN(Z₂) of positions 0 … p+T−1
            int p = state.length();
            Directions.fits(who, p + t, n);
            Variable all = p == 0 ? v : Variable.cat(1, Variable.constant(state.tensors()[0]), v); // (B, p+T, F)
            mixed = Segments.decodingRows(gate.proj.weight(), p, t).matmul(all).add(gate.proj.bias().narrow(0, p, t).reshape(t, 1)); // (B, T, F)
            state.advance(new Tensor[] {all.data().contiguous()}, t);
        } else {
            Directions.fits(who, s.longest(), n);
            mixed = s.perRun(gate.proj.weight(), causal).matmul(v).add(s.perRunBias(gate.proj.bias())); // (B, T, F)
        }
        return fc2.forward(u.mul(mixed)); // (B, T, C)
    }

    @Override
    public String toString() {
        return "Gmlp(C=" + dim + ", F=" + f + ", n=" + n + (causal ? ", causal" : "") + ")";
    }
}
