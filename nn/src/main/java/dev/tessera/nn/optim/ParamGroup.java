package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A list of parameters sharing a learning rate and a weight decay (torch.optim's param_groups).
 * A group built with {@link #of} takes both from the optimizer's defaults ({@code NaN} means
 * "use the default"). Optimizers that keep per-group running scalars (Schedule-Free's weight sum)
 * keep them in {@link #scalars()}, which the optimizer's state dict saves.
 */
public final class ParamGroup {
    private final List<Variable> params;
    private double lr;
    private double weightDecay;
    private final Map<String, Double> scalars = new LinkedHashMap<>();

    public ParamGroup(List<Variable> params, double lr, double weightDecay) {
        if (params.isEmpty()) {
            throw new IllegalArgumentException("ParamGroup: a group needs at least one parameter");
        }
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i) == null || !params.get(i).requiresGrad() || !params.get(i).isLeaf()) {
                throw new IllegalArgumentException("ParamGroup: parameter " + i + " is not a leaf that requires grad");
            }
        }
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    /** A group that takes its learning rate and weight decay from the optimizer. */
    public static ParamGroup of(List<Variable> params) {
        return new ParamGroup(params, Double.NaN, Double.NaN);
    }

    /** A group that takes its learning rate from the optimizer and has its own weight decay. */
    public static ParamGroup withWeightDecay(List<Variable> params, double weightDecay) {
        return new ParamGroup(params, Double.NaN, weightDecay);
    }

    /** One group holding every parameter: {@code new AdamW(ParamGroup.all(model.parameters()), ...)}. */
    public static List<ParamGroup> all(List<Variable> params) {
        return List.of(of(params));
    }

    public List<Variable> params() {
        return params;
    }

    public double lr() {
        return lr;
    }

    public void setLr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("ParamGroup: learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public void setWeightDecay(double weightDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("ParamGroup: weight decay must be finite and >= 0, got " + weightDecay);
        }
        this.weightDecay = weightDecay;
    }

    /** Optimizer-managed running scalars of this group, by name (saved in the state dict). */
    public Map<String, Double> scalars() {
        return scalars;
    }
}
