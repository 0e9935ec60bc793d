package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BiPredicate;

/**
 * Parameter grouping for decoupled weight decay (G5, Loshchilov &amp; Hutter 2019; the
 * nanoGPT / Hugging Face convention): matrices decay, while biases, normalisation gains and
 * embedding tables do not, since shrinking them toward zero only hurts.
 */
public final class ParamGroups {
    private ParamGroups() {}

    /**
     * The default exemption: rank ≤ 1 parameters (biases, norm weights) and any parameter whose
     * dotted name contains "embed", "wte", "wpe", "norm" or "ln_" (case-insensitive).
     */
    public static final BiPredicate<String, Variable> DEFAULT_NO_DECAY = (name, p) -> {
        if (p.rank() <= 1) {
            return true;
        }
        String n = name.toLowerCase(Locale.ROOT);
        return n.contains("embed") || n.contains("wte") || n.contains("wpe") || n.contains("norm") || n.contains("ln_");
    };

    /** {@link #decayAndNoDecay(Module, double, BiPredicate)} with {@link #DEFAULT_NO_DECAY}. */
    public static List<ParamGroup> decayAndNoDecay(Module m, double weightDecay) {
        return decayAndNoDecay(m, weightDecay, DEFAULT_NO_DECAY);
    }

    /**
     * Two groups over {@code m}'s parameters in registration order: first those that decay (weight
     * decay {@code weightDecay}), then those {@code noDecay} exempts (weight decay 0). Both take
     * the optimizer's learning rate; an empty group is left out.
     *
     * @param noDecay given a parameter's dotted name and the parameter, true to exempt it
     */
    public static List<ParamGroup> decayAndNoDecay(Module m, double weightDecay, BiPredicate<String, Variable> noDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("decayAndNoDecay: weight decay must be finite and >= 0, got " + weightDecay);
        }
        List<Variable> decay = new ArrayList<>();
        List<Variable> keep = new ArrayList<>();
        m.namedParameters().forEach((name, p) -> (noDecay.test(name, p) ? keep : decay).add(p));
        List<ParamGroup> out = new ArrayList<>(2);
        if (!decay.isEmpty()) {
            out.add(ParamGroup.withWeightDecay(decay, weightDecay));
        }
        if (!keep.isEmpty()) {
            out.add(ParamGroup.withWeightDecay(keep, 0));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("decayAndNoDecay: " + m.getClass().getSimpleName() + " has no parameters");
        }
        return out;
    }
}
