package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E12 (channel mix): RWKV-4's channel mixing (Peng et al. 2023, "RWKV: Reinventing RNNs for the
 * Transformer Era", §3.2), the feed-forward half of an RWKV block: a squared-ReLU MLP gated by a
 * receptance, both reading the token-shifted input. The shift makes it depend on the previous token,
 * so it is causal and decodes with a one-token state; it takes the {@link TokenMixer} signature for
 * that reason.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, F hidden (4C in the paper).
 *
 *   x'_t = x_{t−1}  (0 at t = 0 or a document start; the state's last token when decoding)
 *   k_t = W_k (μ_k ⊙ x_t + (1 − μ_k) ⊙ x'_t),   r_t = σ(W_r (μ_r ⊙ x_t + (1 − μ_r) ⊙ x'_t))
 *   out_t = r_t ⊙ W_v max(k_t, 0)²                                              (B, T, C)
 * </pre>
 *
 * Parameter names are Hugging Face's {@code RwkvFeedForward} ({@code time_mix_key},
 * {@code time_mix_receptance}, {@code key} (F, C), {@code receptance} (C, C), {@code value} (C, F));
 * μ initialised (c/C)^{½} as for a middle layer, projections N(0, 1/in). In the models it is the FFN kind
 * {@code rwkv} ({@code --ffn rwkv}, F = the model's intermediate size): the blocks call it through
 * {@link dev.tessera.nn.ffn.FeedForwardKinds#forward}, which hands it the mask (packed documents restart the
 * shift) and, when decoding, a one-token state kept in the layer's cache beside the attention or mixer state
 * ({@link dev.tessera.nn.attention.KvCache#feedForwardState}); with {@code --mixer rwkv} that is a whole RWKV-4 stack.
 */
public final class RwkvChannelMix extends Module implements TokenMixer, Layer {

    /** The channel mix has no options: its hidden width is the model's FFN width. */
    public record Options() {}

    private final int c;
    private final Variable mixKey;
    private final Variable mixReceptance;
    private final Linear key;
    private final Linear receptance;
    private final Linear value;

    /** A channel mix over width {@code dim} with {@code hidden} squared-ReLU units. */
    public RwkvChannelMix(int dim, int hidden, DType dtype, Generator g) {
        if (dim <= 0 || hidden <= 0) {
            throw new IllegalArgumentException("rwkv channel mix: width and hidden must be positive, got " + dim + " and " + hidden);
        }
        this.c = dim;
        double[] mu = new double[c];
        for (int a = 0; a < c; a++) {
            mu[a] = Math.pow((double) a / c, 0.5);
        }
        mixKey = parameter("time_mix_key", Tensor.of(mu, 1, 1, c).to(dtype));
        mixReceptance = parameter("time_mix_receptance", Tensor.of(mu, 1, 1, c).to(dtype));
        key = child("key", Rwkv.projection(c, hidden, dtype, g));
        receptance = child("receptance", Rwkv.projection(c, c, dtype, g));
        value = child("value", Rwkv.projection(hidden, c, dtype, g));
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        MixerInput.check("rwkv channel mix", x, c);
        int t = x.size(1);
        Tensor carry = TokenMixer.carry("rwkv channel mix", mask, x.size(0), t, state, x); // (B, T, 1) or null
        Tensor[] held = state == null ? null : state.tensors();
        Variable shifted = Rwkv.tokenShift(x, carry, held == null ? null : held[0]); // (B, T, C)
        Variable k = key.forward(Rwkv.lerp(x, shifted, mixKey)).relu().square(); // (B, T, F)
        Variable r = receptance.forward(Rwkv.lerp(x, shifted, mixReceptance)).sigmoid(); // (B, T, C)
        if (state != null) {
            state.advance(new Tensor[] {x.data().narrow(1, t - 1, 1).copy()}, t);
        }
        return r.mul(value.forward(k));
    }

    /** Training from the zero state, one document per row: {@code forward(x, null, null)}. */
    @Override
    public Variable forward(Variable x) {
        return forward(x, null, null);
    }

    @Override
    public String toString() {
        return "RwkvChannelMix(C=" + c + ")";
    }
}
