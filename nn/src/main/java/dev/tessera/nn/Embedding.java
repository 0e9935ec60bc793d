package dev.tessera.nn;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/** A lookup table (vocab, dim): ids of any shape → ids.shape + [dim]. Initialised N(0, std²). */
public final class Embedding extends Module {
    private final Variable weight;

    public Embedding(int vocab, int dim, double std, Generator g) {
        if (vocab <= 0 || dim <= 0) {
            throw new IllegalArgumentException("Embedding: sizes must be positive, got vocab=" + vocab + " dim=" + dim);
        }
        this.weight = parameter("weight", Init.normal(g, std, vocab, dim));
    }

    public Variable forward(Tensor ids) {
        return weight.embedding(ids);
    }

    public Variable weight() {
        return weight;
    }
}
