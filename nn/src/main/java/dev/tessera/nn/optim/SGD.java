package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import java.util.List;

/**
 * Stochastic gradient descent with momentum (Polyak 1964; Sutskever et al. 2013 for the Nesterov
 * form), with torch.optim.SGD's exact formulas. With g the gradient, λ the weight decay, μ the
 * momentum, τ the dampening and γ the learning rate:
 *
 * <pre>
 *   g ← g + λ·p                                  (L2 weight decay, coupled)
 *   b ← g                       at the first step, else  b ← μ·b + (1 − τ)·g
 *   g ← g + μ·b   (Nesterov)    or  g ← b
 *   p ← p − γ·g
 * </pre>
 *
 * Without momentum (μ = 0) the update is p ← p − γ·g and no buffer is kept.
 */
public final class SGD extends Optimizer {
    public SGD(List<ParamGroup> groups, double lr, double momentum, double dampening, boolean nesterov, double weightDecay) {
        super("SGD", groups, lr, weightDecay);
        check(momentum >= 0 && momentum < Double.POSITIVE_INFINITY, "momentum must be finite and >= 0, got " + momentum);
        check(dampening >= 0 && dampening <= 1, "dampening must be in [0, 1], got " + dampening);
        check(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and dampening 0");
        defineHyper("momentum", momentum);
        defineHyper("dampening", dampening);
        defineHyper("nesterov", nesterov ? 1 : 0);
    }

    /** Plain SGD: p ← p − γ·g. */
    public SGD(List<ParamGroup> groups, double lr) {
        this(groups, lr, 0, 0, false, 0);
    }

    @Override
    protected List<String> stateNames() {
        return hp("momentum") != 0 ? List.of("momentum_buffer") : List.of();
    }

    @Override
    protected void initState(ParamGroup group, Variable p, ParamState state) {
        if (hp("momentum") != 0) {
            state.tensors.put("momentum_buffer", zerosLike(p));
        }
    }

    @Override
    void update(ParamGroup group, ParamState state, Buf p, Buf g, int from, int to) {
        double lr = group.lr();
        double wd = group.weightDecay();
        double mu = hp("momentum");
        double damp = hp("dampening");
        boolean nesterov = hp("nesterov") != 0;
        boolean first = state.step() == 1;
        Buf b = mu != 0 ? state.buf("momentum_buffer") : null;
        for (int i = from; i < to; i++) {
            double pi = p.get(i);
            double gi = g.get(i) + wd * pi;
            if (b != null) {
                double bi = first ? gi : mu * b.get(i) + (1 - damp) * gi;
                b.set(i, bi);
                bi = b.get(i);
                gi = nesterov ? gi + mu * bi : bi;
            }
            p.set(i, pi - lr * gi);
        }
    }
}
