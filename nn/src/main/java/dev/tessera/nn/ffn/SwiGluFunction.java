package dev.tessera.nn.ffn;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.tensor.SwiGlu;
import dev.tessera.tensor.Tensor;

/**
 * SwiGLU's gate, SiLU(gate)·up, as one autograd node over the fused kernels of {@link SwiGlu}
 * (equations there). Tested equal, values and gradients, to {@code silu(gate).mul(up)}. The kernels
 * take operands of any storage kind themselves.
 */
final class SwiGluFunction extends CustomFunction {
    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        ctx.save(inputs[0], inputs[1]);
        return SwiGlu.forward(inputs[0], inputs[1]);
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        return SwiGlu.backward(ctx.saved(0), ctx.saved(1), grad);
    }

    @Override
    protected String name() {
        return "swiglu";
    }
}
