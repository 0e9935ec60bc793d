package dev.tessera.nn;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Helpers that build the recipe's layers in a chosen dtype, so a whole model can be made in F64
 * for gradient checks; public because the components that use them live in nn's subpackages. {@link Linear} creates its bias in F32 whatever the weight's
 * dtype; ops promote F32 with F64 to F64, so an F64 model with biases still computes in F64.
 */
public final class Params {
    private Params() {}

    /** A Linear with PyTorch's default init U(±1/√in), weight in {@code dtype}. */
    public static Linear linear(int in, int out, boolean bias, Generator g, DType dtype) {
        Tensor w = Init.kaimingUniform(g, 1 / Math.sqrt(3), out, in).to(dtype);
        Linear l = new Linear(in, out, bias, w);
        if (bias) {
            double bound = 1 / Math.sqrt(in);
            l.bias().data().copyFromInPlace(Init.uniform(g, -bound, bound, out));
        }
        return l;
    }

    public static Tensor ones(DType dtype, int n) {
        return Tensor.ones(dtype, n);
    }

    public static Tensor zeros(DType dtype, int n) {
        return Tensor.zeros(dtype, n);
    }

    public static void checkFloating(String who, DType dtype) {
        if (dtype == null || !dtype.isFloating()) {
            throw new IllegalArgumentException(who + ": dtype must be floating, got " + dtype);
        }
    }
}
