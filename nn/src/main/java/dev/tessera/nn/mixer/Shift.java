package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Locale;

/**
 * E4: token mixing by shifting along time, in two forms.
 *
 * <p>{@code mode=token}: RWKV's token shift (Peng et al. 2023, "RWKV: Reinventing RNNs for the
 * Transformer Era", §3.1, the μ interpolation of each time-mix input with the previous token),
 * followed by an output projection so the shift is a whole mixer. Causal; decoding keeps the last
 * token (O(1)).
 * <pre>
 * Dimensions: B batch, T time, C channels.
 *
 *   Δ_t = x_{t−1} − x_t      (x_{−1} = 0)                 fla's token_shift_ref
 *   y_t = W_o (x_t + μ ⊙ Δ_t)                              time_mix μ (C), output.weight W_o (C, C)
 * </pre>
 *
 * <p>{@code mode=spatial}: S²-MLP's spatial shift (Yu, Xu, Wang, Li 2022, "S²-MLP: Spatial-Shift
 * MLP Architecture for Vision", WACV) between two channel projections, on a 1-D sequence: the
 * paper's four channel groups shifted by one pixel in four directions become two groups shifted by
 * one position in the two directions of time (up/down have no 1-D counterpart; ShiftViT, Wang et
 * al. 2022, shifts the same way in 2-D). {@code causal=true} shifts the second group by two
 * positions back instead of one forward, so only the past is read and decoding keeps the last two
 * hidden rows (O(1)).
 * <pre>
 *   h = GELU(W₁ x + b₁)                                   fc1 (C → C)
 *   g_t = [h_{t−1}[:C/2] ; h_{t+1}[C/2:]]   (causal: h_{t−2}[C/2:]), zeros past the ends
 *   y = W₂ g + b₂                                          fc2 (C → C)
 * </pre>
 * Packed documents and padding runs ({@link Segments}) shift in zeros at their own ends, as fla's
 * varlen {@code token_shift_ref} does at each {@code cu_seqlens} boundary.
 */
public final class Shift extends Module implements TokenMixer {

    /** The two forms. */
    public enum Mode { TOKEN, SPATIAL }

    /**
     * @param mode token (RWKV token shift, causal) or spatial (S²-MLP shift)
     * @param causal whether only past positions are read; mode token is always causal
     */
    public record Options(Mode mode, boolean causal) implements MixerKind.Directional {
        public Options {
            if (mode == null || mode == Mode.TOKEN && !causal) {
                throw new IllegalArgumentException("mixer shift: mode token is causal (RWKV's token shift); an encoder takes mode spatial with"
                        + " causal=false, got mode=" + (mode == null ? "null" : mode.name().toLowerCase(Locale.ROOT)) + " causal=" + causal);
            }
        }
    }

    private final String who = "mixer shift";
    private final int dim;
    private final Options o;
    private final Variable timeMix;
    private final Linear output;
    private final Linear fc1;
    private final Linear fc2;

    /** A shift mixer over width {@code dim}, initialised from {@code g} (μ = ½; projections N(0, 1/C)). */
    public Shift(int dim, Options o, DType dtype, Generator g) {
        if (dim <= 0 || o.mode() == Mode.SPATIAL && dim < 2) {
            throw new IllegalArgumentException(who + ": width must be positive (>= 2 for mode spatial), got " + dim);
        }
        this.dim = dim;
        this.o = o;
        if (o.mode() == Mode.TOKEN) {
            timeMix = parameter("time_mix", Tensor.zeros(dtype, dim).fillInPlace(0.5));
            output = child("output", new Linear(dim, dim, false, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
            fc1 = null;
            fc2 = null;
        } else {
            timeMix = null;
            output = null;
            fc1 = child("fc1", new Linear(dim, dim, true, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
            fc2 = child("fc2", new Linear(dim, dim, true, Tensor.randn(g, dtype, dim, dim).mul(1 / Math.sqrt(dim))));
        }
    }

    @Override
    public Variable forward(Variable x, AttentionMask mask, MixerState state) {
        Segments s = Directions.segments(who, o.causal(), x, dim, mask, state);
        int t = x.size(1);
        if (o.mode() == Mode.TOKEN) {
            Variable all = Segments.withPast(x, state, 1); // (B, 1+T, C)
            Variable prev = s.delayed(all, 1, 1, t); // (B, T, C): x_{t−1}
            Segments.advance(state, all, t, 1);
            return output.forward(x.add(timeMix.mul(prev.sub(x)))); // (B, T, C)
        }
        Variable h = fc1.forward(x).gelu(); // (B, T, C)
        int half = dim / 2;
        Variable first;
        Variable second;
        if (o.causal()) {
            Variable all = Segments.withPast(h, state, 2); // (B, 2+T, C)
            first = s.delayed(all, 2, 1, t); // h_{t−1}
            second = s.delayed(all, 2, 2, t); // h_{t−2}
            Segments.advance(state, all, t, 2);
        } else {
            Variable all = Segments.padded(h, 1); // (B, 1+T+1, C)
            first = s.delayed(all, 1, 1, t); // h_{t−1}
            second = s.delayed(all, 1, -1, t); // h_{t+1}
        }
        return fc2.forward(Variable.cat(2, first.narrow(2, 0, half), second.narrow(2, half, dim - half))); // (B, T, C)
    }

    @Override
    public String toString() {
        return "Shift(C=" + dim + ", " + o.mode().name().toLowerCase(Locale.ROOT) + (o.causal() ? ", causal" : "") + ")";
    }
}
