package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Init;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Params;
import dev.tessera.nn.attention.KernelOptions;
import dev.tessera.nn.ffn.Dextra;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * DeFINE's deep factorized input token embedding (E6), after Mehta et al. 2020, "DeFINE: Deep
 * Factorized Input Token Embeddings for Neural Sequence Modeling" (ICLR 2020), the map-expand-reduce
 * unit: a token is looked up in a narrow table (width n), expanded to k by the hierarchical group
 * transform (HGT, N group linear transforms whose group count halves from layer to layer while the
 * width grows), with the looked-up vector fed again into every layer by the split-and-mix skip
 * connection, and reduced to the model width m:
 * <pre>
 *   e = √n·E[token]                                                      (n)       map
 *   ŷ¹ = F(e, W¹, b¹, g¹);   ŷˡ = F(H(e, ŷˡ⁻¹, gˡ), Wˡ, bˡ, gˡ)  (1 &lt; l ≤ N)   (dˡ)      expand (HGT)
 *   DeFINE(token) = W_o·H(e, ŷᴺ, 1) + b_o                                (m)       reduce
 *   F(Z, W, b, g) = concat_i (Z_i W_i + b_i)     Z split in g equal groups Z_i (the group linear transform, {@link Dextra#groupLinear})
 *   H(e, y, g) = concat_i [y_i ; e_i]            split-and-mix: group i of y beside group i of e ({@link Dextra#mix})
 *   gˡ = min(2^(N−l), g_max)                      halving to a single group at l = N
 *   dˡ = n + (k − n)·l/N                          growing linearly to dᴺ = k (rounded up to multiples of g_max below N)
 * </pre>
 * Parameters: {@code weight} (V, n), the lookup table a tied {@link LmHead} shares (logits =
 * (h·P)·Eᵀ through its m → n projection, so output and input both live in the narrow space, as the
 * paper's language models do); {@code glt<l>_weight} (gˡ, inˡ/gˡ, dˡ/gˡ) and {@code glt<l>_bias} (dˡ);
 * {@code out_proj} (m ← k + n). For V tokens that is V·n + (HGT) + (k + n + 1)·m parameters
 * instead of V·m ({@link #parameterCount(int, int, Options)}).
 *
 * <p>Reading: the paper's text and figures were not at hand (this follows public reviews' descriptions
 * of its map-expand-reduce unit and HGT, and the structure of the authors' DeLighT code,
 * {@code DExTraUnit.define_config}/{@code forward_dextra}, for the group schedule, the linear width
 * schedule, the split-and-mix skip, the final layer on [ŷᴺ; e] and the √n scale of the looked-up
 * vector, which Transformer embeddings share: without it the N(0, 0.02²) table reaches the model some
 * ten times weaker than a plain table and a 20-step run barely learns). As in {@link Dextra}, which
 * follows DeLighT's equations as written, the group linear transforms carry no normalisation or
 * activation; the authors' code adds a norm and activation after each layer, an input linear layer
 * before the HGT and a dropout on the looked-up vector, and cycles the group count when 2^(N−1)
 * exceeds g_max (we cap it): none of that is followed. There is no channel shuffle (the DeFINE unit
 * has none; DExTra added it). The GLT biases start at zero (a random constant would drown the token's
 * signal). The dropout is the model's embedding dropout, on the output.
 */
public final class Define extends InputEmbedding {

    /** The config name: {@code --embedding define}, config.json {@code tessera.embedding}. */
    public static final String NAME = "define";

    private static final Map<String, String> DEFAULTS = Map.of("dim", "0", "depth", "3", "width", "0", "max_groups", "4");

    /**
     * @param dim n, the lookup width (0: m/4), a multiple of {@code maxGroups}
     * @param depth N ≥ 1 HGT layers
     * @param width k, the HGT's output width (0: 2·m)
     * @param maxGroups g_max, a power of two
     */
    public record Options(int dim, int depth, int width, int maxGroups) {
        public Options {
            if (dim < 0 || depth < 1 || width < 0 || maxGroups < 1 || Integer.bitCount(maxGroups) != 1) {
                throw new IllegalArgumentException("embedding define: need dim >= 0, depth >= 1, width >= 0 and max_groups a power of two,"
                        + " got dim=" + dim + " depth=" + depth + " width=" + width + " max_groups=" + maxGroups);
            }
        }

        /** n for model width m. */
        public int dimFor(int m) {
            return dim > 0 ? dim : Math.max(1, m / 4);
        }

        /** k for model width m. */
        public int widthFor(int m) {
            return width > 0 ? width : 2 * m;
        }
    }

    /** The options by name ({@code --embedding-option dim=64}, config.json {@code tessera.embedding_options}) over the defaults. */
    public static Options options(Map<String, ?> given) {
        return KernelOptions.bind("embedding " + NAME, Options.class, DEFAULTS, given);
    }

    private final int dim;
    private final int[] groups; // gˡ
    private final int[] widths; // dˡ
    private final Variable weight; // E (V, n)
    private final Variable[] gltWeights; // (gˡ, inˡ/gˡ, dˡ/gˡ)
    private final Variable[] gltBiases; // (dˡ)
    private final Linear out; // m ← k + n
    private final Dropout dropout;

    public Define(int vocab, int dim, Options o, double dropout, double std, Generator g, DType dtype) {
        Params.checkFloating("embedding define", dtype);
        int n = o.dimFor(dim);
        int k = o.widthFor(dim);
        if (vocab < 1 || dim < 1 || n % o.maxGroups() != 0) {
            throw new IllegalArgumentException("embedding define: need vocab >= 1, model width >= 1 and max_groups " + o.maxGroups()
                    + " dividing dim " + n + ", got vocab=" + vocab + " width=" + dim);
        }
        this.dim = dim;
        groups = groups(o.depth(), o.maxGroups());
        widths = widths(n, k, o.depth(), o.maxGroups());
        weight = parameter("weight", Init.normal(g, std, vocab, n).to(dtype));
        gltWeights = new Variable[widths.length];
        gltBiases = new Variable[widths.length];
        for (int l = 0; l < widths.length; l++) {
            int in = l == 0 ? n : n + widths[l - 1];
            double bound = 1 / Math.sqrt((double) in / groups[l]);
            gltWeights[l] = parameter("glt" + l + "_weight", Init.uniform(g, -bound, bound, groups[l], in / groups[l], widths[l] / groups[l]).to(dtype));
            gltBiases[l] = parameter("glt" + l + "_bias", Tensor.zeros(dtype, widths[l])); // zero: a constant would drown the token
        }
        out = child("out_proj", Params.linear(k + n, dim, true, g, dtype));
        this.dropout = child("dropout", new Dropout(dropout, dropout > 0 ? g : null));
    }

    /** gˡ = min(2^(N−l), g_max), l = 1..N. */
    static int[] groups(int depth, int maxGroups) {
        int[] g = new int[depth];
        for (int l = 1; l <= depth; l++) {
            g[l - 1] = Math.min(1 << Math.min(depth - l, 30), maxGroups);
        }
        return g;
    }

    /** dˡ = n + (k − n)·l/N, rounded up to a multiple of g_max below the last (= k). */
    static int[] widths(int n, int k, int depth, int maxGroups) {
        int[] d = new int[depth];
        for (int l = 1; l <= depth; l++) {
            double w = n + (double) (k - n) * l / depth;
            d[l - 1] = l == depth ? k : maxGroups * (int) Math.ceil(w / maxGroups);
        }
        return d;
    }

    /**
     * The parameters of a DeFINE embedding of {@code vocab} tokens at model width m, from the schedule
     * alone (so the paper's sizes can be counted without allocating the table): V·n + Σ (inˡ·dˡ/gˡ + dˡ) + (k + n + 1)·m.
     */
    public static long parameterCount(int vocab, int m, Options o) {
        int n = o.dimFor(m);
        int[] g = groups(o.depth(), o.maxGroups());
        int[] d = widths(n, o.widthFor(m), o.depth(), o.maxGroups());
        long count = (long) vocab * n;
        for (int l = 0; l < d.length; l++) {
            long in = l == 0 ? n : n + d[l - 1];
            count += in * d[l] / g[l] + d[l];
        }
        return count + (long) (d[d.length - 1] + n + 1) * m;
    }

    /** dˡ, each HGT layer's output width (the last is k). */
    public int[] widths() {
        return widths.clone();
    }

    /** gˡ, each HGT layer's group count. */
    public int[] groupCounts() {
        return groups.clone();
    }

    @Override
    public Variable forward(Tensor ids) {
        return dropout.forward(transform(weight.embedding(ids).mul(Math.sqrt(weight.size(1))))); // (B, T, m)
    }

    /** The HGT and the reduction on looked-up vectors e (…, n) → (…, m). */
    public Variable transform(Variable e) {
        int n = weight.size(1);
        if (e.rank() < 1 || e.size(-1) != n) {
            throw new IllegalArgumentException("embedding define: expected e (..., " + n + "), got " + Arrays.toString(e.shape()));
        }
        int[] lead = Arrays.copyOf(e.shape(), e.rank() - 1);
        int rows = Arrays.stream(lead).reduce(1, Math::multiplyExact);
        Variable x = e.reshape(rows, n); // (N, n)
        Variable y = null;
        for (int l = 0; l < widths.length; l++) {
            Variable z = l == 0 ? x : Dextra.mix(x, y, groups[l]); // (N, inˡ)
            y = Dextra.groupLinear(z, gltWeights[l], gltBiases[l], groups[l]); // (N, dˡ)
        }
        int[] shape = Arrays.copyOf(lead, lead.length + 1);
        shape[lead.length] = dim;
        return out.forward(Dextra.mix(x, y, 1)).reshape(shape); // (…, m)
    }

    @Override
    public Variable weight() {
        return weight;
    }

    @Override
    public int dim() {
        return dim;
    }
}
