package dev.tessera.autograd;

import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.function.Function;

/**
 * Activation checkpointing (Chen et al. 2016, "Training Deep Nets with Sublinear Memory Cost"):
 * the segment runs forward without recording, so none of its intermediates are kept; backward
 * runs it again with recording on and backpropagates through the recomputation. Gradients equal
 * the plain run's bitwise, provided the segment is deterministic; pass the generators it draws
 * from (dropout) so their states are replayed.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static Variable run(Function<Variable[], Variable> segment, Variable... inputs) {
        return run(segment, new Generator[0], inputs);
    }

    public static Variable run(Function<Variable[], Variable> segment, Generator[] generators, Variable... inputs) {
        long[] states = new long[generators.length];
        for (int i = 0; i < generators.length; i++) {
            states[i] = generators[i].state();
        }
        Tensor out;
        try (var scope = GradMode.noGrad()) {
            out = segment.apply(inputs).data();
        }
        Tensor[] data = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            data[i] = inputs[i].data();
        }
        return Variable.record("checkpoint", out, g -> {
            long[] after = new long[generators.length];
            for (int i = 0; i < generators.length; i++) {
                after[i] = generators[i].state();
                generators[i].restore(states[i]);
            }
            Variable[] fresh = new Variable[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                fresh[i] = Variable.of(data[i], inputs[i].requiresGrad());
            }
            try (var enable = GradMode.enableGrad()) {
                Variable recomputed = segment.apply(fresh);
                if (recomputed.requiresGrad()) {
                    recomputed.backward(g);
                }
            }
            for (int i = 0; i < generators.length; i++) {
                generators[i].restore(after[i]);
            }
            Tensor[] grads = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                grads[i] = fresh[i].grad();
            }
            return grads;
        }, data, inputs);
    }
}
