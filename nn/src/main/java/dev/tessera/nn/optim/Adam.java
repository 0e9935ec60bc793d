package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import java.util.List;

/**
 * Adam (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization"), as torch.optim.Adam
 * with its coupled L2 weight decay. At step t, with learning rate γ, weight decay λ:
 *
 * <pre>
 *   g ← g + λ·p
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 *
 * State: {@code exp_avg} (m) and {@code exp_avg_sq} (v). For decoupled weight decay use
 * {@link AdamW}.
 */
public class Adam extends Optimizer {
    private final boolean decoupled;

    public Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this("Adam", groups, lr, beta1, beta2, eps, weightDecay, false);
    }

    Adam(String name, List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(name, groups, lr, weightDecay);
        check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        check(eps >= 0 && eps < Double.POSITIVE_INFINITY, "eps must be finite and >= 0, got " + eps);
        this.decoupled = decoupled;
        defineHyper("beta1", beta1);
        defineHyper("beta2", beta2);
        defineHyper("eps", eps);
    }

    @Override
    protected final List<String> stateNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected final void initState(ParamGroup group, Variable p, ParamState state) {
        state.tensors.put("exp_avg", zerosLike(p));
        state.tensors.put("exp_avg_sq", zerosLike(p));
    }

    @Override
    final void update(ParamGroup group, ParamState state, Buf p, Buf g, int from, int to) {
        double lr = group.lr();
        double wd = group.weightDecay();
        double b1 = hp("beta1");
        double b2 = hp("beta2");
        double eps = hp("eps");
        long t = state.step();
        double stepSize = lr / (1 - Math.pow(b1, t));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
        double shrink = decoupled ? 1 - lr * wd : 1;
        double l2 = decoupled ? 0 : wd;
        Buf m = state.buf("exp_avg");
        Buf v = state.buf("exp_avg_sq");
        for (int i = from; i < to; i++) {
            double pi = p.get(i) * shrink;
            double gi = g.get(i) + l2 * pi;
            m.set(i, b1 * m.get(i) + (1 - b1) * gi);
            v.set(i, b2 * v.get(i) + (1 - b2) * gi * gi);
            double denom = Math.sqrt(v.get(i)) / bc2Sqrt + eps;
            p.set(i, pi - stepSize * m.get(i) / denom);
        }
    }
}
