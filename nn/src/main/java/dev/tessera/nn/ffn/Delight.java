package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;

/**
 * DeLighT's DExTra transformation and light-weight FFN (E6), after Mehta et al. 2021, "DeLighT: Deep
 * and Light-weight Transformer" (section 3.1–3.3), here in a block's feed-forward slot: the shared
 * {@link Dextra} (N group linear transformations d_m → w_m·d_m → d_m, see there) followed by the
 * light FFN of section 3.2:
 * <pre>
 *   FFN_light(Z) = W_up · gelu(W_down Z + b_down) + b_up     d_m → d_m/r → d_m (reduce, then expand)
 *   y = FFN_light(DExTra(X))       (depth N ≥ 1);      y = FFN_light(X)   (depth 0)
 * </pre>
 * Where it goes: in DeLighT, DExTra (d_m → d_o = d_m/2) sits before single-head attention and only
 * the light FFN after it; that block is {@code --mixer delight} ({@code mixer.DelightAttention}) with
 * {@code --ffn delight --ffn-option depth=0}. With depth N ≥ 1 this layer also puts a DExTra (d_m → d_m)
 * in the FFN slot, so any attention kind gets DeLighT's deep-and-light transform. Block-wise scaling
 * (section 3.3): options n_min ≥ 1 and n_max give layer b of B the depth N^b and width multiplier
 * w_m^b of {@link Dextra#depthAt} and {@link Dextra#widthMultAt} ({@link Options#atLayer}); n_min = 0
 * keeps one depth for every layer. Parameters: {@code dextra.glt<l>_weight}, {@code dextra.glt<l>_bias},
 * {@code down}, {@code up}.
 */
public final class Delight extends Module implements Layer {

    /**
     * @param depth N ≥ 0 GLT layers (0: the light FFN alone, the paper's block beside {@code --mixer delight})
     * @param widthMult w_m ≥ 1, d_max = w_m·d_m
     * @param maxGroups g_max, a power of two dividing d_m
     * @param reduction r ≥ 1, the light FFN's hidden width is d_m / r (at least 1)
     * @param nMin N_min of block-wise scaling (0: off, every layer takes {@code depth})
     * @param nMax N_max of block-wise scaling (0 when off, else ≥ n_min)
     */
    public record Options(int depth, double widthMult, int maxGroups, int reduction, int nMin, int nMax) {
        public Options {
            if (depth < 0 || !(widthMult >= 1) || Double.isInfinite(widthMult) || maxGroups < 1 || Integer.bitCount(maxGroups) != 1
                    || reduction < 1) {
                throw new IllegalArgumentException("ffn delight: need depth >= 0, width_mult >= 1, max_groups a power of two and reduction"
                        + " >= 1, got depth=" + depth + " width_mult=" + widthMult + " max_groups=" + maxGroups + " reduction=" + reduction);
            }
            if (nMin == 0 ? nMax != 0 : nMin < 1 || nMax < nMin || depth == 0) {
                throw new IllegalArgumentException("ffn delight: block-wise scaling needs 1 <= n_min <= n_max and depth >= 1 (n_min = n_max = 0"
                        + " for off), got n_min=" + nMin + " n_max=" + nMax + " depth=" + depth);
            }
        }

        /** Without block-wise scaling. */
        public Options(int depth, double widthMult, int maxGroups, int reduction) {
            this(depth, widthMult, maxGroups, reduction, 0, 0);
        }

        /** Layer {@code layer}'s options of {@code layers} under block-wise scaling (its N^b and w_m^b, scaling then off); these when off. */
        public Options atLayer(int layer, int layers) {
            return nMin == 0 ? this : new Options(Dextra.depthAt(nMin, nMax, layer, layers),
                    Dextra.widthMultAt(widthMult, nMin, nMax, layer, layers), maxGroups, reduction);
        }
    }

    private final int dim;
    private final Options options;
    private final Dextra dextra; // null for depth 0
    private final dev.tessera.nn.Linear down;
    private final dev.tessera.nn.Linear up;

    /** With {@code options} as given (their depth for this layer: see {@link Options#atLayer} for block-wise scaling). */
    public Delight(int dim, Options options, DType dtype, Generator g) {
        Params.checkFloating("Delight", dtype);
        if (dim < 1 || dim % options.maxGroups() != 0) {
            throw new IllegalArgumentException("ffn delight: max_groups " + options.maxGroups() + " must divide the width " + dim);
        }
        this.dim = dim;
        this.options = options;
        Options o = options.atLayer(0, 1); // a lone layer under block-wise scaling is block 0 of 1: N_min, w_m
        dextra = o.depth() == 0 ? null : child("dextra", new Dextra("ffn delight", dim, dim, o.depth(), o.widthMult(), o.maxGroups(), dtype, g));
        int hidden = Math.max(1, dim / options.reduction());
        down = child("down", Params.linear(dim, hidden, true, g, dtype));
        up = child("up", Params.linear(hidden, dim, true, g, dtype));
    }

    public Options options() {
        return options;
    }

    /** The DExTra part, or null for depth 0. */
    public Dextra dextra() {
        return dextra;
    }

    /** x (B, T, C) → (B, T, C). */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException("Delight: expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        Variable y = dextra == null ? x : dextra.forward(x); // (B, T, C)
        return up.forward(down.forward(y).gelu()); // (B, T, C)
    }
}
