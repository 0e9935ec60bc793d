package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import java.util.ArrayList;
import java.util.List;

/**
 * A component that adds its own term to the training objective, such as the L1 span penalty of
 * adaptive attention span (B25). Trainers add {@link #total} of the model to the data loss, so a
 * component that needs one is complete by itself: nothing outside it has to know its penalty.
 */
public interface Regularizer {

    /** The term, already times its coefficient: a scalar whose gradient reaches the component's parameters. */
    Variable regularization();

    /** The sum of every regularizer in {@code model}'s module tree, or null when it has none. */
    static Variable total(Module model) {
        List<Regularizer> found = new ArrayList<>();
        model.apply(m -> {
            if (m instanceof Regularizer r) {
                found.add(r);
            }
        });
        Variable sum = null;
        for (Regularizer r : found) {
            Variable term = r.regularization();
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }
}
