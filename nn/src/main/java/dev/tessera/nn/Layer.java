package dev.tessera.nn;

import dev.tessera.autograd.Variable;

/** A module with one input and one output (linear layers, norms, activations, feed-forward blocks). */
public interface Layer {
    Variable forward(Variable x);
}
