package dev.tessera.nn.internal;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Tensor;

/**
 * Constants that module code builds on the host (index tables, masks, decay and position
 * coefficients, zero states) put on the device of the activations they meet, so that every
 * component runs unchanged on any device (issue 14): the dispatcher rejects an op whose inputs sit
 * on different devices. On the CPU each of these is the host tensor itself.
 */
public final class OnDevice {
    private OnDevice() {}

    /** {@code host} (an index table or mask, dtype kept) on {@code like}'s device. */
    public static Tensor of(Tensor host, Variable like) {
        return host.to(like.data().device());
    }

    /** {@code host} as a constant of {@code like}'s dtype on {@code like}'s device. */
    public static Variable constant(Tensor host, Variable like) {
        return Variable.constant(host.to(like.dtype()).to(like.data().device()));
    }

    /** A zero constant of {@code shape} in {@code like}'s dtype on {@code like}'s device (an initial state, a pad). */
    public static Variable zeros(Variable like, int... shape) {
        return Variable.constant(Tensor.zeros(like.data().device(), like.dtype(), shape));
    }
}
