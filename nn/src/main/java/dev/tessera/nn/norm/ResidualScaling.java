package dev.tessera.nn.norm;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Init;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Generator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * GPT-2 scaled residual initialisation (D7): Radford et al., "Language Models are Unsupervised
 * Multitask Learners", 2019 ("we scale the weights of residual layers at initialization by a
 * factor of 1/√N where N is the number of residual layers"), as nanoGPT and Megatron apply it:
 *
 * <pre>
 *   W ~ N(0, (std / √(2L))²)   for every projection that writes into the residual stream
 * </pre>
 *
 * with L transformer blocks (two residual branches each). The projections are found by their
 * Hugging Face names: parameters ending in {@code c_proj.weight} (GPT-2), {@code o_proj.weight}
 * and {@code down_proj.weight} (Llama).
 */
public final class ResidualScaling {
    private ResidualScaling() {}

    /** Name suffixes of the residual-stream output projections. */
    public static final List<String> SUFFIXES = List.of("c_proj.weight", "o_proj.weight", "down_proj.weight");

    /** Whether {@code name} names a residual output projection (a whole dotted component must match). */
    public static boolean isResidualProjection(String name) {
        for (String s : SUFFIXES) {
            if (name.equals(s) || name.endsWith("." + s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Re-draws every residual output projection of {@code model} from N(0, (std/√(2·layers))²)
     * ({@link Init#scaledResidual}); returns the names it touched, in parameter order.
     */
    public static List<String> apply(Module model, double std, int layers, Generator g) {
        if (layers <= 0 || !(std > 0)) {
            throw new IllegalArgumentException("ResidualScaling: need layers > 0 and std > 0, got layers=" + layers + " std=" + std);
        }
        List<String> touched = new ArrayList<>();
        for (Map.Entry<String, Variable> e : model.namedParameters().entrySet()) {
            if (isResidualProjection(e.getKey())) {
                Variable p = e.getValue();
                int[] shape = p.shape();
                int rows = shape.length == 0 ? 1 : shape[0];
                int cols = p.data().numel() / Math.max(1, rows);
                p.data().copyFromInPlace(Init.scaledResidual(g, std, layers, rows, cols).reshape(shape));
                touched.add(e.getKey());
            }
        }
        return touched;
    }
}
