package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Inverted dropout (Srivastava et al. 2014), A14: in training each element is kept with
 * probability 1 − p and scaled, y = x·m/(1 − p) with m ~ Bernoulli(1 − p), so E[y] = x; in eval
 * mode, and for p = 0, y = x. Masks are drawn from the given {@link Generator}, so the same seed
 * gives the same masks. Used for residual, attention-probability and embedding dropout.
 */
public final class Dropout extends Module implements Layer {
    private final double p;
    private final Generator generator;

    public Dropout(double p, Generator generator) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        }
        if (p > 0 && generator == null) {
            throw new IllegalArgumentException("Dropout: p=" + p + " needs a Generator");
        }
        this.p = p;
        this.generator = generator;
    }

    public double p() {
        return p;
    }

    @Override
    public Variable forward(Variable x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        // drawn on the host from the one Generator stream (the same mask on every device), moved as a BOOL mask
        Tensor keep = Tensor.rand(generator, x.dtype(), x.shape()).lt(p).logicalNot().to(x.data().device());
        Tensor scale = keep.to(x.dtype()).mul(1 / (1 - p));
        return x.mul(Variable.constant(scale));
    }
}
