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
 * DeLighT's DExTra transformation (E6), after Mehta et al. 2021, "DeLighT: Deep and Light-weight
 * Transformer" (section 3.1, eq. 1–2; it grows out of the hierarchical group transform of Mehta et
 * al. 2020, "DeFINE"), shared by the FFN-slot layer {@link Delight} and the attention-side mixer
 * {@code mixer.DelightAttention}. It maps the d_m-wide input X to d_o through N group linear
 * transformations (GLTs), expanding to d_max = w_m·d_m over the first ⌈N/2⌉ layers and reducing to d_o
 * over the rest:
 * <pre>
 *   Y¹ = F(X, W¹, b¹, g¹);   Yˡ = F(H(X, Yˡ⁻¹), Wˡ, bˡ, gˡ)  (l &gt; 1);   DExTra(X) = Yᴺ   (d_o wide)
 *   F(Z, W, b, g) = concat_i (Z_i W_i + b_i)     Z split in g equal groups Z_i (group linear transform)
 *   H(X, Y) = concat_i [shuffle(Y)_i ; X_i]       input mixer: the groups of the shuffled Y beside those of X
 *   shuffle(Y): Y's g groups interleaved (ShuffleNet's channel shuffle, (g, d/g) read as (d/g, g))
 *   gˡ = min(2ˡ⁻¹, g_max) for l ≤ ⌈N/2⌉,  gˡ = g^(N−l+1) otherwise      (mirrored)
 *   widths: dˡ grows linearly from d_m to d_max over l = 1..⌈N/2⌉ and falls linearly to d_o at l = N
 * </pre>
 * Block-wise scaling (section 3.3, eq. 4) gives block b of B its own depth and width multiplier,
 * shallow and narrow near the input, deep and wide near the output ({@link #depthAt}, {@link
 * #widthMultAt}):
 * <pre>
 *   N^b = N_min + (N_max − N_min)·b/(B − 1),     w_m^b = w_m + (N_max − N_min)·b/(N_min·(B − 1))     (B &gt; 1; else N_min, w_m)
 * </pre>
 * The reduction half mirrors the expansion's groups (g^(N−l+1)); the paper prints g^(N−l), which would
 * ask for g⁰ at l = N. N^b is rounded down, as the authors' code does (np.linspace with an integer dtype); the paper does
 * not say. Intermediate widths are rounded up to multiples of g_max so every group split is exact;
 * g_max must be a power of two dividing d_m. Parameters: {@code glt<l>_weight} (gˡ, inˡ/gˡ, dˡ/gˡ) and
 * {@code glt<l>_bias} (dˡ). This follows eq. 1–2 as written; the authors' code departs from them
 * (an input and an output linear layer around the GLTs, a norm and activation after each, groups
 * starting at 2) and is not followed.
 */
public final class Dextra extends Module implements Layer {

    private final int in;
    private final int[] groups; // gˡ
    private final int[] widths; // dˡ
    private final Variable[] weights; // (gˡ, inˡ/gˡ, dˡ/gˡ)
    private final Variable[] biases; // (dˡ)

    /**
     * @param in d_m, divisible by {@code maxGroups}
     * @param out d_o ≥ 1
     * @param depth N ≥ 1 GLT layers
     * @param widthMult w_m ≥ 1, d_max = w_m·d_m
     * @param maxGroups g_max, a power of two dividing d_m
     */
    public Dextra(String who, int in, int out, int depth, double widthMult, int maxGroups, DType dtype, Generator g) {
        Params.checkFloating(who, dtype);
        if (depth < 1 || !(widthMult >= 1) || Double.isInfinite(widthMult) || maxGroups < 1 || Integer.bitCount(maxGroups) != 1 || out < 1) {
            throw new IllegalArgumentException(who + ": DExTra needs depth >= 1, width_mult >= 1, max_groups a power of two and an output"
                    + " width >= 1, got depth=" + depth + " width_mult=" + widthMult + " max_groups=" + maxGroups + " out=" + out);
        }
        if (in < 1 || in % maxGroups != 0) {
            throw new IllegalArgumentException(who + ": max_groups " + maxGroups + " must divide the width " + in);
        }
        this.in = in;
        int half = (depth + 1) / 2;
        groups = groups(depth, maxGroups);
        widths = new int[depth];
        double max = widthMult * in;
        for (int l = 1; l <= depth; l++) {
            double w = l <= half ? in + (max - in) * l / half : max + (out - max) * (l - half) / (depth - half);
            widths[l - 1] = l == depth ? out : maxGroups * (int) Math.ceil(w / maxGroups);
        }
        weights = new Variable[depth];
        biases = new Variable[depth];
        for (int l = 0; l < depth; l++) {
            int width = l == 0 ? in : in + widths[l - 1];
            int gl = groups[l];
            double bound = 1 / Math.sqrt((double) width / gl);
            weights[l] = parameter("glt" + l + "_weight", Init.uniform(g, -bound, bound, gl, width / gl, widths[l] / gl).to(dtype));
            biases[l] = parameter("glt" + l + "_bias", Init.uniform(g, -bound, bound, widths[l]).to(dtype));
        }
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

    /** N^b, block {@code b}'s DExTra depth of {@code blocks} (eq. 4, rounded down). */
    public static int depthAt(int nMin, int nMax, int b, int blocks) {
        checkBlock(nMin, nMax, b, blocks);
        return blocks == 1 ? nMin : nMin + (nMax - nMin) * b / (blocks - 1);
    }

    /** w_m^b, block {@code b}'s width multiplier of {@code blocks} (eq. 4). */
    public static double widthMultAt(double widthMult, int nMin, int nMax, int b, int blocks) {
        checkBlock(nMin, nMax, b, blocks);
        return blocks == 1 ? widthMult : widthMult + (double) (nMax - nMin) * b / ((double) nMin * (blocks - 1));
    }

    private static void checkBlock(int nMin, int nMax, int b, int blocks) {
        if (nMin < 1 || nMax < nMin || b < 0 || b >= blocks) {
            throw new IllegalArgumentException("DExTra block-wise scaling: need 1 <= n_min <= n_max and 0 <= block < blocks, got n_min=" + nMin
                    + " n_max=" + nMax + " block=" + b + " blocks=" + blocks);
        }
    }

    /** dˡ, each GLT's output width (the last is d_o). */
    public int[] widths() {
        return widths.clone();
    }

    /** gˡ, each GLT's group count. */
    public int[] groupCounts() {
        return groups.clone();
    }

    /** N, the number of GLT layers. */
    public int depth() {
        return widths.length;
    }

    /** x (…, d_m) → (…, d_o). */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() < 1 || x.size(-1) != in) {
            throw new IllegalArgumentException("DExTra: expected x (..., " + in + "), got " + Arrays.toString(x.shape()));
        }
        int[] lead = Arrays.copyOf(x.shape(), x.rank() - 1);
        int n = Arrays.stream(lead).reduce(1, Math::multiplyExact);
        Variable flat = x.reshape(n, in); // (N, d_m)
        Variable y = null;
        for (int l = 0; l < widths.length; l++) {
            int g = groups[l];
            Variable z = l == 0 ? flat : mix(flat, shuffle(y, groups[l - 1]), g); // (N, inˡ)
            y = groupLinear(z, weights[l], biases[l], g); // (N, dˡ)
        }
        int[] shape = Arrays.copyOf(lead, lead.length + 1);
        shape[lead.length] = widths[widths.length - 1];
        return y.reshape(shape); // (…, d_o)
    }

    /**
     * The group linear transform F(Z, W, b, g) = concat_i (Z_i W_i + b_i) of z (N, in), split in g equal groups, with
     * weight (g, in/g, d/g) and bias (d) → (N, d); shared with DeFINE's hierarchical group transform ({@code block.Define}).
     */
    public static Variable groupLinear(Variable z, Variable weight, Variable bias, int g) {
        int n = z.size(0);
        Variable parts = z.reshape(n, g, z.size(1) / g).transpose(0, 1); // (g, N, in/g)
        return parts.matmul(weight).transpose(0, 1).reshape(n, bias.size(0)).add(bias); // (N, d)
    }

    /** Channel shuffle of y (N, d) made by g groups: (N, g, d/g) read as (N, d/g, g). */
    static Variable shuffle(Variable y, int g) {
        int n = y.size(0);
        int d = y.size(1);
        return y.reshape(n, g, d / g).transpose(1, 2).reshape(n, d);
    }

    /** The input mixer: group i of the result is [y_i ; x_i], with x (N, a) and y (N, b) each split in g groups → (N, a + b). */
    public static Variable mix(Variable x, Variable y, int g) {
        int n = x.size(0);
        return Variable.cat(2, y.reshape(n, g, y.size(1) / g), x.reshape(n, g, x.size(1) / g)).reshape(n, x.size(1) + y.size(1));
    }
}
