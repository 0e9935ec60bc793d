package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import java.util.List;

/**
 * Lion, "EvoLved Sign Momentum" (Chen et al. 2023, "Symbolic Discovery of Optimization
 * Algorithms"). Each step moves every coordinate by exactly ±γ (plus decoupled weight decay), so
 * it wants a learning rate 3-10× smaller and a weight decay 3-10× larger than AdamW's:
 *
 * <pre>
 *   c ← β1·m + (1 − β1)·g
 *   p ← p − γ·(sign(c) + λ·p)
 *   m ← β2·m + (1 − β2)·g
 * </pre>
 *
 * State: {@code exp_avg} (m). Paper defaults: β1 = 0.9, β2 = 0.99.
 */
public final class Lion extends Optimizer {
    public Lion(List<ParamGroup> groups, double lr, double beta1, double beta2, double weightDecay) {
        super("Lion", groups, lr, weightDecay);
        check(beta1 >= 0 && beta1 <= 1, "beta1 must be in [0, 1], got " + beta1);
        check(beta2 >= 0 && beta2 <= 1, "beta2 must be in [0, 1], got " + beta2);
        defineHyper("beta1", beta1);
        defineHyper("beta2", beta2);
    }

    @Override
    protected List<String> stateNames() {
        return List.of("exp_avg");
    }

    @Override
    protected void initState(ParamGroup group, Variable p, ParamState state) {
        state.tensors.put("exp_avg", zerosLike(p));
    }

    @Override
    void update(ParamGroup group, ParamState state, Buf p, Buf g, int from, int to) {
        double lr = group.lr();
        double wd = group.weightDecay();
        double b1 = hp("beta1");
        double b2 = hp("beta2");
        Buf m = state.buf("exp_avg");
        for (int i = from; i < to; i++) {
            double pi = p.get(i);
            double gi = g.get(i);
            double mi = m.get(i);
            double c = b1 * mi + (1 - b1) * gi;
            p.set(i, pi - lr * (Math.signum(c) + wd * pi));
            m.set(i, b2 * mi + (1 - b2) * gi);
        }
    }
}
