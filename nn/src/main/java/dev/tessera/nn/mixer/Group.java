package dev.tessera.nn.mixer;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.Tensor;

/** A named group of parameters and layers inside a mixer, for dotted names like {@code filter.in.weight} or {@code unit0.conv.weight}. */
final class Group extends Module {
    Variable add(String name, Tensor initial) {
        return parameter(name, initial);
    }

    <M extends Module> M add(String name, M module) {
        return child(name, module);
    }
}
