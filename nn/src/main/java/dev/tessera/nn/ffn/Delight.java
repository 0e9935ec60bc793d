package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import java.util.Arrays;

/**
 * DeLighT's DExTra transformation and light-weight FFN (E6), after Mehta et al. 2021, "DeLighT: Deep
 * and Light-weight Transformer" (section 3.1, eq. 1–2; DExTra grows out of Mehta et al. 2020,
 * "DeFINE"), here in place of a block's feed-forward. DExTra maps the d_m-wide input X through N group
 * linear transformations (GLTs), expanding to d_max = w_m·d_m over the first ⌈N/2⌉ layers and reducing
 * back to d_m over the rest:
 * <pre>
 *   Y¹ = F(X, W¹, b¹, g¹);   Yˡ = F(H(X, Yˡ⁻¹), Wˡ, bˡ, gˡ)  (l &gt; 1)
 *   F(Z, W, b, g) = concat_i (Z_i W_i + b_i)     Z split in g equal groups Z_i (group linear transform)
 *   H(X, Y) = concat_i [shuffle(Y)_i ; X_i]       input mixer: the groups of the shuffled Y beside those of X
 *   shuffle(Y): Y's g groups interleaved (ShuffleNet's channel shuffle, (g, d/g) read as (d/g, g))
 *   gˡ = min(2ˡ⁻¹, g_max) for l ≤ ⌈N/2⌉,  gˡ = g^(N−l+1) otherwise      (mirrored)
 *   widths: dˡ grows linearly from d_m to d_max over l = 1..⌈N/2⌉ and falls linearly to d_m at l = N
 *   FFN_light(Z) = W_up · gelu(W_down Z + b_down) + b_up     d_m → d_m/r → d_m (reduce, then expand)
 *   y = FFN_light(DExTra(X))
 * </pre>
 * Where it goes: in DeLighT, DExTra sits before single-head attention (d_m → d_m/2) and the light FFN
 * after it; this layer puts both in the FFN slot (DExTra d_m → d_m, then the light FFN), so attention
 * stays whatever kind the model chose. Not done here: DeLighT's block-wise scaling (depth and width
 * growing with the block index) and the attention-side DExTra. Widths are rounded up to multiples of
 * g_max so every group split is exact; g_max must be a power of two dividing d_m.
 */
public final class Delight extends Module implements Layer {

    /**
     * @param depth N ≥ 1 GLT layers
     * @param widthMult w_m ≥ 1, d_max = w_m·d_m
     * @param maxGroups g_max, a power of two dividing d_m
     * @param reduction r ≥ 1, the light FFN's hidden width is d_m / r (at least 1)
     */
    public record Options(int depth, double widthMult, int maxGroups, int reduction) {
        public Options {
            if (depth < 1 || !(widthMult >= 1) || Double.isInfinite(widthMult) || maxGroups < 1 || Integer.bitCount(maxGroups) != 1
                    || reduction < 1) {
                throw new IllegalArgumentException("ffn delight: need depth >= 1, width_mult >= 1, max_groups a power of two and reduction"
                        + " >= 1, got depth=" + depth + " width_mult=" + widthMult + " max_groups=" + maxGroups + " reduction=" + reduction);
            }
        }
    }

    private final int dim;
    private final Options options;
    private final int[] groups; // gˡ
    private final int[] widths; // dˡ
    private final Variable[] weights; // (gˡ, inˡ/gˡ, dˡ/gˡ)
    private final Variable[] biases; // (dˡ)
    private final dev.tessera.nn.Linear down;
    private final dev.tessera.nn.Linear up;

    public Delight(int dim, Options options, DType dtype, Generator g) {
        Params.checkFloating("Delight", dtype);
        if (dim < 1 || dim % options.maxGroups() != 0) {
            throw new IllegalArgumentException("ffn delight: max_groups " + options.maxGroups() + " must divide the width " + dim);
        }
        this.dim = dim;
        this.options = options;
        int n = options.depth();
        int half = (n + 1) / 2;
        groups = groups(n, options.maxGroups());
        widths = new int[n];
        int gm = options.maxGroups();
        double max = options.widthMult() * dim;
        for (int l = 1; l <= n; l++) {
            double w = l <= half ? dim + (max - dim) * l / half : max + (dim - max) * (l - half) / (n - half);
            widths[l - 1] = l == n ? dim : gm * (int) Math.ceil(w / gm);
        }
        weights = new Variable[n];
        biases = new Variable[n];
        for (int l = 0; l < n; l++) {
            int in = l == 0 ? dim : dim + widths[l - 1];
            int gl = groups[l];
            double bound = 1 / Math.sqrt((double) in / gl);
            weights[l] = parameter("glt" + l + "_weight", Init.uniform(g, -bound, bound, gl, in / gl, widths[l] / gl).to(dtype));
            biases[l] = parameter("glt" + l + "_bias", Init.uniform(g, -bound, bound, widths[l]).to(dtype));
        }
        int hidden = Math.max(1, dim / options.reduction());
        down = child("down", Params.linear(dim, hidden, true, g, dtype));
        up = child("up", Params.linear(hidden, dim, true, g, dtype));
    }

    /** gˡ = min(2ˡ⁻¹, g_max) over the expansion half, mirrored over the reduction half. */
    static int[] groups(int n, int maxGroups) {
        int half = (n + 1) / 2;
        int[] g = new int[n];
        for (int l = 1; l <= n; l++) {
            int e = l <= half ? l : n - l + 1;
            g[l - 1] = Math.min(1 << Math.min(e - 1, 30), maxGroups);
        }
        return g;
    }

    public Options options() {
        return options;
    }

    /** dˡ, each GLT's output width (the last is d_m). */
    public int[] widths() {
        return widths.clone();
    }

    /** gˡ, each GLT's group count. */
    public int[] groupCounts() {
        return groups.clone();
    }

    /** x (B, T, C) → (B, T, C). */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException("Delight: expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        int b = x.size(0);
        int t = x.size(1);
        int n = b * t;
        Variable in = x.reshape(n, dim); // (N, C)
        Variable y = null;
        for (int l = 0; l < options.depth(); l++) {
            int g = groups[l];
            Variable z = l == 0 ? in : mix(in, shuffle(y, groups[l - 1]), g); // (N, inˡ)
            Variable parts = z.reshape(n, g, z.size(1) / g).transpose(0, 1); // (g, N, inˡ/g)
            y = parts.matmul(weights[l]).transpose(0, 1).reshape(n, widths[l]).add(biases[l]); // (N, dˡ)
        }
        return up.forward(down.forward(y).gelu()).reshape(b, t, dim); // (B, T, C)
    }

    /** Channel shuffle of y (N, d) made by g groups: (N, g, d/g) read as (N, d/g, g). */
    static Variable shuffle(Variable y, int g) {
        int n = y.size(0);
        int d = y.size(1);
        return y.reshape(n, g, d / g).transpose(1, 2).reshape(n, d);
    }

    /** The input mixer: group i of the result is [y_i ; x_i], with x and y each split in g groups. */
    static Variable mix(Variable x, Variable y, int g) {
        int n = x.size(0);
        return Variable.cat(2, y.reshape(n, g, y.size(1) / g), x.reshape(n, g, x.size(1) / g)).reshape(n, x.size(1) + y.size(1));
    }
}
