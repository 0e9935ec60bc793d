package dev.tessera.nn.ffn;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.attention.ConditionalAttention;
import dev.tessera.nn.internal.OnDevice;
import dev.tessera.tensor.Generator;
import java.util.Arrays;

/**
 * CoLT5 conditional feed-forward (B24), after Ainslie et al., "CoLT5: Faster Long-Range Transformers
 * with Conditional Computation", EMNLP 2023, section 3: every token goes through a light MLP, and only
 * the m tokens a learned router scores highest also go through a heavy MLP, whose output is scaled by
 * the router score so the router learns which tokens deserve the capacity:
 * <pre>
 *   s_i = x_i · r                                         (router, r ∈ ℝ^C learned)
 *   R = the m positions of the sequence with the largest s  (all when T ≤ m)
 *   y_i = FFN_light(x_i) + [i ∈ R] σ(s_i) · FFN_heavy(x_i)
 * </pre>
 * The two branches are the same kind of feed-forward and differ only in hidden width: the heavy one
 * has the config's width ({@code intermediate_size}), the light one {@link Options#lightHidden()},
 * so the cost per sequence is T·C·h_light + m·C·h_heavy rather than T·C·h_heavy. The caller adds the
 * residual (the paper's X_i + …).
 *
 * <p>Named departures, as in {@link ConditionalAttention}: the paper normalises router scores with an
 * iterative soft top-k; here the weight of a routed token is σ(s_i), which keeps the router
 * differentiable with the same role. The selection is a constant one-hot matrix P (m, T) (no derivative,
 * ties to the earlier position, {@link ConditionalAttention#selection}), so the heavy branch runs on P·x
 * and its output returns through Pᵀ; gradients reach r through σ. Routing ranks every position of a row,
 * padding and other documents included, so which tokens are routed depends on the whole sequence: the
 * kind is bidirectional only (CoLT5 is an encoder design) and causal decoders refuse it.
 */
public final class ConditionalFeedForward extends Module implements Layer {

    /**
     * @param lightHidden the light branch's hidden width (≥ 1; the heavy branch takes the config's)
     * @param routed m ≥ 1, the tokens per sequence routed to the heavy branch
     */
    public record Options(int lightHidden, int routed) {
        public Options {
            if (lightHidden < 1 || routed < 1) {
                throw new IllegalArgumentException("ffn conditional: options light_hidden and routed must be >= 1, got light_hidden="
                        + lightHidden + " routed=" + routed);
            }
        }
    }

    private final int dim;
    private final Options options;
    private final FeedForward light;
    private final FeedForward heavy;
    private final Variable router;

    /**
     * @param heavy the heavy branch (a per-token kind; its width is the heavy hidden width); the light
     *     branch is the same with {@code options.lightHidden()}
     */
    public ConditionalFeedForward(FeedForward.Config heavy, Options options, Generator g) {
        this.dim = heavy.dim();
        this.options = options;
        this.light = child("light", new FeedForward(new FeedForward.Config(heavy.dim(), options.lightHidden(), heavy.kind(),
                heavy.activation(), heavy.bias(), heavy.dtype()), g));
        this.heavy = child("heavy", new FeedForward(heavy, g));
        this.router = parameter("router", Init.normal(g, 1 / Math.sqrt(heavy.dim()), heavy.dim(), 1).to(heavy.dtype()));
    }

    public Options options() {
        return options;
    }

    /** x (B, T, C) → (B, T, C). */
    @Override
    public Variable forward(Variable x) {
        if (x.rank() != 3 || x.size(2) != dim) {
            throw new IllegalArgumentException("ConditionalFeedForward: expected x (B, T, " + dim + "), got " + Arrays.toString(x.shape()));
        }
        return route(x, router.to(x.dtype()), light, heavy, options.routed());
    }

    /** The block as a function of the router r (C, 1) and the two branches, so r's gradient can be checked like x's. */
    public static Variable route(Variable x, Variable router, Layer light, Layer heavy, int routed) {
        Variable s = x.matmul(router); // (B, T, 1)
        Variable pick = OnDevice.constant(ConditionalAttention.selection(s.data().unsqueeze(1), routed).squeeze(1), x); // (B, m, T)
        Variable heavyOut = heavy.forward(pick.matmul(x)).mul(pick.matmul(s.sigmoid())); // (B, m, C)
        return light.forward(x).add(pick.mT().matmul(heavyOut)); // (B, T, C)
    }
}
