package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E17: the sparse all-MLP's spatial mixture of experts, sMoE (Yu, Artetxe, Ott, Shleifer, Gong,
 * Stoyanov, Li 2022, "Efficient Language Modeling with Sparse all-MLP", arXiv 2203.06850, §3), as
 * a causal token mixer: a gMLP block (E2, {@link Gmlp}) whose spatial gating unit is replaced by E
 * expert gating units, each fed one chunk of the hidden dimension, so the model holds E spatial
 * weights for the compute of one.
 *
 * <pre>
 * Dimensions: B batch, T time (≤ n, the option length), C channels, F gate width (option hidden, 0 = C),
 * E experts (option experts, dividing F), c = F / E the chunk width.
 *
 *   Z = GELU(X U + u₀)                                   (B, T, 2F)   fc1
 *   Z₁, Z₂ = split(Z)                                    (B, T, F) each
 *   Z₁ = [Z₁⁽¹⁾ … Z₁⁽ᴱ⁾],  Z₂ = [Z₂⁽¹⁾ … Z₂⁽ᴱ⁾]          chunks along the hidden dimension, (B, T, c) each
 *   sₑ = Z₁⁽ᵉ⁾ ⊙ (Wₑ · LNₑ(Z₂⁽ᵉ⁾) + bₑ)                   chunk e → expert e; Wₑ (n, n) lower-triangular, bₑ (n)
 *   Y = [s₁ … s_E] V + v₀                                (B, T, C)    fc2
 * </pre>
 *
 * <p>Routing. The paper routes hidden dimensions, not tokens: the vector routed is a hidden unit's
 * values over the T tokens, so a learned gate on it would read future tokens (§3.2). It gives two
 * remedies: deterministic routing (chunk e always to expert e; "sMLP-deterministic", the variant of
 * its largest runs) and partial prediction (as we recall the paper, not having its text: a learned
 * router reads the first 20% of the tokens and only the remaining 80% are predicted). This class
 * implements deterministic routing, which needs no router and is causal as it stands; partial
 * prediction is not built (it needs the trainer to drop the routing prefix from the loss, and
 * decoding could not start before the prefix is complete). With E = 1 the mixer is gMLP's causal spatial gating unit ({@link Gmlp} with
 * causal=true, the paper's dense blocks).
 *
 * <p>The other half of a sparse block, the paper's tMoE (token-wise routing in place of the FFN),
 * is E16's {@link dev.tessera.nn.ffn.MixtureOfExperts} ({@code --ffn moe --ffn-option top_k=1
 * --ffn-option renormalize=false} for the paper's one expert per token); the paper uses Base
 * Layers' balanced assignment there, whose assignment reads the whole batch and so is not causal;
 * E16's router decides each token alone. Each expert is a whole gating unit with its own
 * LayerNorm over its chunk (an sMoE expert replaces the gMLP's spatial gating unit); the paper's
 * full text was not at hand (only its abstract and a review, which confirm the chunking along the
 * hidden dimension and the two routing remedies), so the per-expert norm and the paper's
 * initialisation of each Wₑ (gMLP's §2: Wₑ ≈ 0, bₑ = 1, so each expert starts as a plain FFN)
 * are our reading.
 *
 * <p>Causal: each Wₑ is masked lower-triangular, so position t reads positions ≤ t only. Decoding
 * caches the past LN(Z₂) rows of every expert in the {@link MixerState}, like gMLP: a token costs
 * O(t·F) and the state grows to at most n rows (not O(1): the spatial weights read every past
 * position). Packed documents each use Wₑ and bₑ from their own first position on ({@link
 * Segments}), so no document reads another. Parameters: {@code fc1}, {@code experts.e.norm},
 * {@code experts.e.proj}, {@code fc2} (no checkpoint format exists).
 */
public final class SparseMlp extends Module implements TokenMixer, PaperInit {

    /**
     * @param length n, the longest sequence (each expert's spatial weight is n × n)
     * @param hidden F, the gated width (fc1 gives 2F); 0 means C
     * @param experts E, the spatial experts, each taking F / E hidden units
     */
    public record Options(int length, int hidden, int experts) {
        public Options {
            if (length < 1 || hidden < 0 || experts < 1) {
                throw new IllegalArgumentException("mixer smlp: need length >= 1, hidden >= 0 and experts >= 1, got length=" + length
                        + " hidden=" + hidden + " experts=" + experts);
            }
        }
    }

    private final String who = "mixer smlp";
    private final int dim;
    private final int f;
    private final int chunk;
    private final int n;
    private final Linear fc1;
    private final Gmlp.Gate[] experts;
    private final Linear fc2;

    /** A sparse gating unit over width {@code dim}, initialised from {@code g} (PyTorch's Linear init for fc1/fc2, the paper's for the experts). */
    public SparseMlp(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.f = o.hidden() == 0 ? dim : o.hidden();
        if (f % o.experts() != 0) {
            throw new IllegalArgumentException(who + ": the gate width " + f + " does not split into " + o.experts() + " equal expert chunks");
        }
        this.chunk = f / o.experts();
        this.n = o.length();
        fc1 = child("fc1", new Linear(dim, 2 * f, true, Tensor.randn(g, dtype, 2 * f, dim).mul(1 / Math.sqrt(dim))));
        Group group = child("experts", new Group());
        experts = new Gmlp.Gate[o.experts()];
        for (int e = 0; e < experts.length; e++) {
            experts[e] = group.add(String.valueOf(e), new Gmlp.Gate(chunk, n, dtype));
        }
        fc2 = child("fc2", new Linear(f, dim, true, Tensor.randn(g, dtype, dim, f).mul(1 / Math.sqrt(f))));
        initialiseAsPaper(g);
    }

    @Override
    public void initialiseAsPaper(Generator g) {
        for (Gmlp.Gate e : experts) {
            e.proj.weight().data().copyFromInPlace(Tensor.randn(g, e.proj.weight().dtype(), n, n).mul(1e-6));
            e.proj.bias().data().fillInPlace(1);
        }
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        if (mask != null && !mask.causal()) { // checked here: Directions' wording offers a causal=false this mixer does not have
            throw new IllegalArgumentException(who + ": a token mixer is causal; got a non-causal mask");
        }
        Segments s = Directions.segments(who, true, x, dim, mask, state);
        Variable z = fc1.forward(x).gelu(); // (B, T, 2F)
        int t = x.size(1);
        int p = state == null ? 0 : state.length();
        Directions.fits(who, state == null ? s.longest() : p + t, n);
        Variable[] v = new Variable[experts.length];
        for (int e = 0; e < experts.length; e++) {
            v[e] = experts[e].norm.forward(z.narrow(2, f + e * chunk, chunk)); // (B, T, c)
        }
        Variable all = null; // decoding: LN(Z₂) of positions 0 … p+T−1, every expert's chunk, (B, p+T, F)
        if (state != null) {
            Variable now = Variable.cat(2, v);
            all = p == 0 ? now : Variable.cat(1, Variable.constant(state.tensors()[0]), now);
        }
        Variable[] gated = new Variable[experts.length];
        for (int e = 0; e < experts.length; e++) {
            Linear proj = experts[e].proj;
            Variable mixed = state == null
                    ? s.perRun(proj.weight(), true).matmul(v[e]).add(s.perRunBias(proj.bias())) // (B, T, c)
                    : Segments.decodingRows(proj.weight(), p, t).matmul(all.narrow(2, e * chunk, chunk))
                            .add(proj.bias().narrow(0, p, t).reshape(t, 1)); // rows p … p+T−1 of Wₑ, (B, T, c)
            gated[e] = z.narrow(2, e * chunk, chunk).mul(mixed); // (B, T, c)
        }
        if (state != null) {
            state.advance(new Tensor[] {all.data().contiguous()}, t);
        }
        return fc2.forward(gated.length == 1 ? gated[0] : Variable.cat(2, gated)); // (B, T, C)
    }

    @Override
    public String toString() {
        return "SparseMlp(C=" + dim + ", F=" + f + ", E=" + experts.length + ", n=" + n + ")";
    }
}
