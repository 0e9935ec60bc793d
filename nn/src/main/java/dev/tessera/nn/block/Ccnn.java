package dev.tessera.nn.block;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Dropout;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.ModuleList;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.mixer.CkConv;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * E24 (network): CCNN, the Continuous Convolutional Neural Network (Knigge, Romero, Gu, Gavves, Bekkers,
 * Tomczak, Hoogendoorn, Sonke 2023, "Modelling Long Range Dependencies in ND: From Task-Specific to a
 * General Purpose CNN", ICLR), for sequence classification: a stack of residual blocks around
 * separable FlexConvs ({@link CkConv}: a depthwise continuous kernel over the whole sequence, then a
 * pointwise layer), so every layer sees the whole (causal) past without pooling or task-dependent depth.
 *
 * <pre>
 * Dimensions: B batch, T time, D input channels, C hidden channels, K classes.
 *
 *   h = GELU(Norm(SepFlexConv_{D→C}(x)))                                       (B, T, C)  stem
 *   for each of the N blocks (pre-norm):
 *     h = h + GELU(W_l · Dropout(GELU(SepFlexConv_{C→C}(Norm(h)))) + b_l)        (B, T, C)
 *   logits = W_o · mean_t Norm(h) + b_o                                         (B, K)
 * </pre>
 *
 * The block is the paper's residual block (its Fig. 2 and the authors' {@code S4Block} with
 * {@code prenorm}): norm → SepFlexConv → GELU → dropout → pointwise linear → GELU, plus the identity
 * (block widths are equal, so no shortcut projection); the head is the final norm, the mean over
 * time and a linear layer ({@code ResNet_sequence}). Sequences are 1D, so the convolutions are
 * causal, as in the paper. Departures: the norm is LayerNorm over channels (the paper uses BatchNorm
 * on most tasks; LayerNorm keeps each sequence independent and needs no running statistics), and
 * the kernel network is {@link CkConv}'s SIREN with FlexConv's Gaussian mask and cropping (the paper
 * prefers MAGNets). Linear layers start Kaiming-normal with zero biases, as the authors' code.
 * Parameter names: {@code stem.conv}, {@code stem.norm}, {@code blocks.N.norm}, {@code blocks.N.conv},
 * {@code blocks.N.linear}, {@code norm}, {@code head}.
 */
public final class Ccnn extends Module {

    /**
     * @param inputs D, the input channels
     * @param channels C, the hidden width of every block
     * @param blocks N, the residual blocks
     * @param classes K
     * @param kernel every SepFlexConv's kernel options (length L, MLP width, ω₀, mask, cropping threshold)
     * @param dropout the blocks' dropout probability
     */
    public record Config(int inputs, int channels, int blocks, int classes, CkConv.Options kernel, double dropout, DType dtype) {
        public Config {
            if (inputs < 1 || channels < 1 || blocks < 0 || classes < 2 || kernel == null || !(dropout >= 0 && dropout < 1)
                    || dtype == null || !dtype.isFloating()) {
                throw new IllegalArgumentException("ccnn: need inputs, channels >= 1, blocks >= 0, classes >= 2, kernel options, dropout in"
                        + " [0, 1) and a floating dtype, got " + inputs + ", " + channels + ", " + blocks + ", " + classes + ", " + kernel
                        + ", " + dropout + ", " + dtype);
            }
        }
    }

    /** One residual block: h + GELU(linear(dropout(GELU(conv(norm(h)))))). */
    static final class Block extends Module {
        private final Layer norm;
        private final CkConv conv;
        private final Dropout drop;
        private final Linear linear;

        Block(Config c, Generator g) {
            norm = (Layer) child("norm", NormKind.LAYER_NORM.create(c.channels(), 1e-5, true, c.dtype()));
            conv = child("conv", new CkConv(c.channels(), c.kernel(), c.dtype(), g));
            drop = child("dropout", new Dropout(c.dropout(), c.dropout() > 0 ? g : null));
            linear = child("linear", kaiming(c.channels(), c.channels(), c.dtype(), g));
        }

        Variable forward(Variable h) {
            Variable y = GELU.apply(conv.forward(norm.forward(h), null, null)); // (B, T, C)
            return h.add(GELU.apply(linear.forward(drop.forward(y))));
        }
    }

    /** The input layer: GELU(norm(SepFlexConv_{D→C}(x))). */
    static final class Stem extends Module {
        private final CkConv conv;
        private final Layer norm;

        Stem(Config c, Generator g) {
            conv = child("conv", new CkConv(c.inputs(), c.channels(), c.kernel(), c.dtype(), g));
            norm = (Layer) child("norm", NormKind.LAYER_NORM.create(c.channels(), 1e-5, true, c.dtype()));
        }

        Variable forward(Variable x) {
            return GELU.apply(norm.forward(conv.forward(x, null, null))); // (B, T, C)
        }
    }

    private static final Activation GELU = Activation.GELU_ERF;

    private final Config config;
    private final Stem stem;
    private final ModuleList<Block> blocks;
    private final Layer norm;
    private final Linear head;

    /** A CCNN of {@code c}, initialised from {@code g}. */
    public Ccnn(Config c, Generator g) {
        this.config = c;
        stem = child("stem", new Stem(c, g));
        blocks = child("blocks", new ModuleList<>());
        for (int i = 0; i < c.blocks(); i++) {
            blocks.add(new Block(c, g));
        }
        norm = (Layer) child("norm", NormKind.LAYER_NORM.create(c.channels(), 1e-5, true, c.dtype()));
        head = child("head", kaiming(c.channels(), c.classes(), c.dtype(), g));
    }

    private static Linear kaiming(int in, int out, DType dtype, Generator g) {
        return new Linear(in, out, true, Tensor.randn(g, dtype, out, in).mul(Math.sqrt(2.0 / in)));
    }

    /** x (B, T, D) → the last block's features (B, T, C) before the final norm; position t depends on x at ≤ t only. */
    public Variable features(Variable x) {
        if (x.rank() != 3 || x.size(2) != config.inputs() || x.size(1) == 0) {
            throw new IllegalArgumentException("ccnn: input must be (B, T, " + config.inputs() + ") with T >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        Variable h = stem.forward(x); // (B, T, C)
        for (Block b : blocks) {
            h = b.forward(h);
        }
        return h;
    }

    /** x (B, T, D) → class logits (B, K). */
    public Variable forward(Variable x) {
        return head.forward(norm.forward(features(x)).mean(1)); // (B, K)
    }

    public Config config() {
        return config;
    }

    @Override
    public String toString() {
        return "Ccnn(D=" + config.inputs() + ", C=" + config.channels() + ", N=" + config.blocks() + ", K=" + config.classes() + ", "
                + config.kernel() + ")";
    }
}
