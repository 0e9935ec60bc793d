package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Tensor;

/**
 * E18: PoolFormer's pooling token mixer (Yu, Luo, Zhou, Si, Zhou, Wang, Feng, Yan 2022,
 * "MetaFormer Is Actually What You Need for Vision", CVPR): average pooling over a window minus the
 * input (the block's residual adds the input back), no parameters — the MetaFormer claim that the
 * block, not the mixer, does the work.
 *
 * <pre>
 * Dimensions: B batch, T time, C channels, k the window (option pool_size).
 *
 *   y_t = (1 / |W_t|) Σ_{s ∈ W_t} x_s − x_t
 *   W_t = {t − ⌊k/2⌋ … t + ⌊k/2⌋} ∩ the sequence (k odd)       causal: W_t = {t − k + 1 … t} ∩ the sequence
 * </pre>
 *
 * The paper pools 2-D feature maps with count_include_pad=False (the average over the positions
 * inside the image only, as timm's {@code metaformer.Pooling}); on a sequence that is the 1-D
 * window above. {@code causal=true} (the default; the decoders take it) uses the window ending at
 * t, an average of the past only; decoding keeps the last k − 1 inputs (O(1)). Packed documents
 * and padding runs ({@link Segments}) are cut out of each other's windows as the sequence ends are.
 */
public final class Pooling extends Module implements TokenMixer {

    /**
     * @param poolSize k, the window (odd when not causal: centred)
     * @param causal whether the window ends at t (decoders) or is centred on it (encoders)
     */
    public record Options(int poolSize, boolean causal) implements MixerKind.Directional {
        public Options {
            if (poolSize < 2 || !causal && poolSize % 2 == 0) {
                throw new IllegalArgumentException("mixer pool: need pool_size >= 2, odd when causal=false (a centred window), got pool_size="
                        + poolSize + " causal=" + causal);
            }
        }
    }

    private final String who = "mixer pool";
    private final int dim;
    private final int k;
    private final boolean causal;

    /** Pooling over width {@code dim} (no parameters). */
    public Pooling(int dim, Options o) {
        if (dim <= 0) {
            throw new IllegalArgumentException(who + ": width must be positive, got " + dim);
        }
        this.dim = dim;
        this.k = o.poolSize();
        this.causal = o.causal();
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, causal, x, dim, mask, state);
        int t = x.size(1);
        int before = causal ? k - 1 : k / 2;
        int from = causal ? 0 : -before;
        int past = state == null ? 0 : state.length();
        Variable all = causal ? Segments.withPast(x, state, before) : Segments.padded(x, before); // (B, before+T(+before), C)
        Variable sum = null;
        for (int d = from; d <= before; d++) {
            Variable v = s.delayed(all, before, d, t); // x_{t−d}, zero outside the run
            sum = sum == null ? v : sum.add(v);
        }
        if (causal) {
            Segments.advance(state, all, t, before);
        }
        double[] count = new double[s.rows() * t]; // |W_t|: the window's positions inside the run (and after the decoded past)
        for (int b = 0; b < s.rows(); b++) {
            for (int i = 0; i < t; i++) {
                int local = s.local(b, i) + past;
                count[b * t + i] = causal ? Math.min(k, local + 1) : Math.min(local, before) + Math.min(s.length(b, i) - 1 - local, before) + 1;
            }
        }
        return sum.div(OnDevice.constant(Tensor.of(count, s.rows(), t, 1), x)).sub(x); // (B, T, C)
    }

    @Override
    public String toString() {
        return "Pooling(C=" + dim + ", k=" + k + (causal ? ", causal" : "") + ")";
    }
}
