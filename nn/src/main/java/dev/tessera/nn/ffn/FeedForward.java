package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Linear;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;

/**
 * Position-wise feed-forward blocks (A5).
 * <ul>
 *   <li>MLP (Vaswani et al. 2017): y = fc2(act(fc1(x))), biases optional (A3).</li>
 *   <li>Gated linear units (Dauphin et al. 2017; Shazeer 2020, "GLU Variants Improve
 *       Transformer"): y = down_proj(act(gate_proj(x)) ⊙ up_proj(x)) with act = σ (GLU),
 *       ReLU (ReGLU), GELU (GeGLU) or Swish/SiLU (SwiGLU, Llama). Names follow Hugging Face Llama.</li>
 * </ul>
 * To keep parameters equal to a 4d MLP, gated variants use d_ff = 8/3·d, rounded as Llama does
 * ({@link #swigluHidden}).
 */
public final class FeedForward extends Module implements Layer {

    public enum Kind {
        MLP(null),
        GLU(Activation.SIGMOID),
        REGLU(Activation.RELU),
        GEGLU(Activation.GELU_ERF),
        SWIGLU(Activation.SILU),
        /**
         * B24: CoLT5's conditional feed-forward, a light MLP for every token plus a heavy MLP for the
         * router's top-m tokens ({@link ConditionalFeedForward}, which this class does not build).
         * Routing ranks the whole sequence, so it is bidirectional only.
         */
        CONDITIONAL(null),
        /** E16: a sparse mixture of SwiGLU experts with top-k routing ({@link MixtureOfExperts}, which this class does not build). */
        MOE(null),
        /** E1: a product-key memory ({@link ProductKeyMemory}, which this class does not build) in the chosen layers. */
        PKM(null),
        /** E6: DeLighT's DExTra and light-weight FFN ({@link Delight}, which this class does not build). */
        DELIGHT(null),
        /**
         * E12: RWKV-4's channel mix ({@code dev.tessera.nn.mixer.RwkvChannelMix}, which this class does not build): it reads
         * the previous token, so it decodes from a per-layer state ({@link FeedForwardKinds#forward}); decoders only.
         */
        RWKV(null);

        private final Activation gate;

        Kind(Activation gate) {
            this.gate = gate;
        }

        public boolean gated() {
            return gate != null;
        }

        /** Whether the kind routes tokens across the sequence ({@link ConditionalFeedForward}) rather than acting on each alone. */
        public boolean routed() {
            return this == CONDITIONAL;
        }

        /** Whether the kind is its own class with an options record ({@link FeedForwardKinds}) rather than built here. */
        public boolean hasOptions() {
            return FeedForwardKinds.optionsType(this) != null;
        }
    }

    /**
     * @param activation the MLP's activation; for gated kinds null means the kind's own gate
     *     activation, and a non-null value overrides it
     */
    public record Config(int dim, int hidden, Kind kind, Activation activation, boolean bias, DType dtype) {
        public Config {
            if (dim <= 0 || hidden <= 0) {
                throw new IllegalArgumentException("FeedForward.Config: dim and hidden must be positive, got dim=" + dim + " hidden=" + hidden);
            }
            if (kind == null) {
                throw new IllegalArgumentException("FeedForward.Config: kind is required");
            }
            if (kind.routed()) {
                throw new IllegalArgumentException("FeedForward.Config: kind conditional routes tokens across the sequence; build a"
                        + " ConditionalFeedForward");
            }
            if (kind.hasOptions()) {
                throw new IllegalArgumentException("FeedForward.Config: kind " + kind.name().toLowerCase(java.util.Locale.ROOT)
                        + " is its own layer; build it with FeedForwardKinds.create");
            }
            if (kind == Kind.MLP && activation == null) {
                throw new IllegalArgumentException("FeedForward.Config: an MLP needs an activation");
            }
            Params.checkFloating("FeedForward.Config", dtype);
        }

        public static Config swiglu(int dim, int hidden) {
            return new Config(dim, hidden, Kind.SWIGLU, null, false, DType.F32);
        }

        public Activation effectiveActivation() {
            return activation != null ? activation : kind.gate;
        }

        public Config withDtype(DType d) {
            return new Config(dim, hidden, kind, activation, bias, d);
        }
    }

    private final Config config;
    private final Activation act;
    private final Linear fc1;
    private final Linear fc2;
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    public FeedForward(Config c, Generator g) {
        this.config = c;
        this.act = c.effectiveActivation();
        if (c.kind().gated()) {
            gate = child("gate_proj", Params.linear(c.dim(), c.hidden(), c.bias(), g, c.dtype()));
            up = child("up_proj", Params.linear(c.dim(), c.hidden(), c.bias(), g, c.dtype()));
            down = child("down_proj", Params.linear(c.hidden(), c.dim(), c.bias(), g, c.dtype()));
            fc1 = fc2 = null;
        } else {
            fc1 = child("fc1", Params.linear(c.dim(), c.hidden(), c.bias(), g, c.dtype()));
            fc2 = child("fc2", Params.linear(c.hidden(), c.dim(), c.bias(), g, c.dtype()));
            gate = up = down = null;
        }
    }

    public Config config() {
        return config;
    }

    @Override
    public Variable forward(Variable x) {
        if (gate != null && act == Activation.SILU) { // SwiGLU: fused gate
            return down.forward(new SwiGluFunction().call(gate.forward(x), up.forward(x)));
        }
        if (gate != null) {
            return down.forward(act.apply(gate.forward(x)).mul(up.forward(x)));
        }
        return fc2.forward(act.apply(fc1.forward(x)));
    }

    /** Llama's rule without an ffn_dim_multiplier. */
    public static int swigluHidden(int dim, int multipleOf) {
        return swigluHidden(dim, multipleOf, Double.NaN);
    }

    /**
     * Llama's d_ff: h = int(2·4d/3); h = int(ffnDimMultiplier·h) when a multiplier is given (not
     * NaN); then h is rounded up to a multiple of {@code multipleOf}. Llama 7B: d = 4096,
     * multiple_of = 256 → 11008; Llama 3 8B: multiplier 1.3, multiple_of = 1024 → 14336.
     */
    public static int swigluHidden(int dim, int multipleOf, double ffnDimMultiplier) {
        if (dim <= 0 || multipleOf <= 0) {
            throw new IllegalArgumentException("swigluHidden: dim and multipleOf must be positive, got " + dim + ", " + multipleOf);
        }
        long hidden = 4L * dim;
        hidden = 2 * hidden / 3;
        if (!Double.isNaN(ffnDimMultiplier)) {
            hidden = (long) (ffnDimMultiplier * hidden);
        }
        hidden = multipleOf * ((hidden + multipleOf - 1) / multipleOf);
        return Math.toIntExact(hidden);
    }
}
