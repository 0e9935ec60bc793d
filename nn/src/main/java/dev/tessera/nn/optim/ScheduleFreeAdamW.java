package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import java.util.List;

/**
 * Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1; as the
 * official {@code schedulefree.AdamWScheduleFree}). No learning-rate schedule is needed: the
 * method keeps an SGD-like sequence z, a weighted average x of the z's, and evaluates gradients at
 * the interpolation y between them. At step t = k + 1 with learning rate γ, warmup T_w, weight
 * decay λ, averaging power r and weight power q (2 by default):
 *
 * <pre>
 *   y_t     = (1 − β1)·z_t + β1·x_t                    (the parameters hold y while training)
 *   v_t     = β2·v_{t−1} + (1 − β2)·g_t²               (g_t the gradient at y_t)
 *   γ_t     = γ · min(1, t / T_w) · √(1 − β2ᵗ)          (warmup and bias correction in the rate)
 *   z_{t+1} = z_t − γ_t·(g_t / (√v_t + ε) + λ·y_t)
 *   w_t     = tʳ · (max_{i≤t} γ_i)^q,   c_{t+1} = w_t / Σ_{i≤t} w_i
 *   x_{t+1} = (1 − c_{t+1})·x_t + c_{t+1}·z_{t+1}
 * </pre>
 *
 * Only y and z are stored; y is updated in place by the equivalent
 * y ← (1 − c)·y + c·z_t + γ_t·(β1·(1 − c) − 1)·ĝ with ĝ = g/(√v + ε) + λ·y.
 *
 * <p><b>Evaluation must use x, not the training parameters y.</b> Call {@link #eval()} before
 * evaluating or saving a checkpoint (it turns the parameters into x = (y − (1 − β1)·z)/β1) and
 * {@link #train()} before the next {@link #step()} (back to y = (1 − β1)·z + β1·x); stepping in
 * eval mode is an error. A module with batch-norm statistics would also need them recomputed at x.
 *
 * <p>State: {@code z} and {@code exp_avg_sq} (v) per parameter; per group the running scalars
 * {@code k}, {@code weight_sum}, {@code lr_max} and {@code train_mode}.
 */
public final class ScheduleFreeAdamW extends Optimizer {
    private double scheduledLr;
    private double ckp1;

    public ScheduleFreeAdamW(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay,
            long warmupSteps, double r, double weightLrPower) {
        super("ScheduleFreeAdamW", groups, lr, weightDecay);
        check(beta1 > 0 && beta1 < 1, "beta1 must be in (0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        check(eps >= 0 && eps < Double.POSITIVE_INFINITY, "eps must be finite and >= 0, got " + eps);
        check(warmupSteps >= 0, "warmupSteps must be >= 0, got " + warmupSteps);
        check(r >= 0 && r < Double.POSITIVE_INFINITY, "r must be finite and >= 0, got " + r);
        check(weightLrPower >= 0 && weightLrPower < Double.POSITIVE_INFINITY, "weightLrPower must be finite and >= 0, got " + weightLrPower);
        defineHyper("beta1", beta1);
        defineHyper("beta2", beta2);
        defineHyper("eps", eps);
        defineHyper("warmup_steps", warmupSteps);
        defineHyper("r", r);
        defineHyper("weight_lr_power", weightLrPower);
        for (ParamGroup g : groups()) {
            g.scalars().put("k", 0.0);
            g.scalars().put("weight_sum", 0.0);
            g.scalars().put("lr_max", -1.0);
            g.scalars().put("train_mode", 1.0);
        }
    }

    /** The official defaults: γ = 0.0025, β = (0.9, 0.999), ε = 1e-8, r = 0, q = 2. */
    public ScheduleFreeAdamW(List<ParamGroup> groups, double lr, double weightDecay, long warmupSteps) {
        this(groups, lr, 0.9, 0.999, 1e-8, weightDecay, warmupSteps, 0, 2);
    }

    @Override
    protected List<String> stateNames() {
        return List.of("z", "exp_avg_sq");
    }

    @Override
    protected void initState(ParamGroup group, Variable p, ParamState state) {
        state.tensors.put("z", copyOf(p));
        state.tensors.put("exp_avg_sq", zerosLike(p));
    }

    @Override
    protected void beginGroup(ParamGroup group) {
        if (group.scalars().get("train_mode") == 0) {
            throw new IllegalStateException("ScheduleFreeAdamW: step() called in eval mode; call train() first");
        }
        double k = group.scalars().get("k");
        double warmup = hp("warmup_steps");
        double sched = k < warmup ? (k + 1) / warmup : 1.0;
        double bc2 = 1 - Math.pow(hp("beta2"), k + 1);
        scheduledLr = group.lr() * sched * Math.sqrt(bc2);
        double lrMax = Math.max(scheduledLr, group.scalars().get("lr_max"));
        group.scalars().put("lr_max", lrMax);
        double weight = Math.pow(k + 1, hp("r")) * Math.pow(lrMax, hp("weight_lr_power"));
        double weightSum = group.scalars().get("weight_sum") + weight;
        group.scalars().put("weight_sum", weightSum);
        ckp1 = weightSum == 0 ? 0 : weight / weightSum;
    }

    @Override
    protected void endGroup(ParamGroup group) {
        group.scalars().put("k", group.scalars().get("k") + 1);
    }

    @Override
    void update(ParamGroup group, ParamState state, Buf y, Buf g, int from, int to) {
        double lr = scheduledLr;
        double c = ckp1;
        double wd = group.weightDecay();
        double b1 = hp("beta1");
        double b2 = hp("beta2");
        double eps = hp("eps");
        double yCoef = lr * (b1 * (1 - c) - 1);
        Buf z = state.buf("z");
        Buf v = state.buf("exp_avg_sq");
        for (int i = from; i < to; i++) {
            double gi = g.get(i);
            v.set(i, b2 * v.get(i) + (1 - b2) * gi * gi);
            double yi = y.get(i);
            double zi = z.get(i);
            double gn = gi / (Math.sqrt(v.get(i)) + eps) + wd * yi;
            y.set(i, yi + c * (zi - yi) + yCoef * gn);
            z.set(i, zi - lr * gn);
        }
    }

    /** The learning rate γ_t of the last step (warmup and bias correction included), for logging. */
    public double scheduledLr() {
        return scheduledLr;
    }

    /** Whether the parameters hold y (training) rather than x (evaluation). */
    public boolean isTraining() {
        return groups().get(0).scalars().get("train_mode") != 0;
    }

    /** Switches the parameters to x, the averaged point that evaluation and checkpoints must use. */
    public void eval() {
        double b1 = hp("beta1");
        for (ParamGroup group : groups()) {
            if (group.scalars().get("train_mode") != 0) {
                forEachWithState(group, (p, st) -> lerpToZ(p, st, 1 - 1 / b1));
                group.scalars().put("train_mode", 0.0);
            }
        }
    }

    /** Switches the parameters back to y, where training gradients are taken. */
    public void train() {
        double b1 = hp("beta1");
        for (ParamGroup group : groups()) {
            if (group.scalars().get("train_mode") == 0) {
                forEachWithState(group, (p, st) -> lerpToZ(p, st, 1 - b1));
                group.scalars().put("train_mode", 1.0);
            }
        }
    }

    private void lerpToZ(Variable p, ParamState st, double w) {
        mutate("lerp_to_z", p, null, st, (buf, unused) -> {
            Buf z = st.buf("z");
            for (int i = 0; i < buf.n; i++) {
                double pi = buf.get(i);
                buf.set(i, pi + w * (z.get(i) - pi));
            }
        });
    }
}
