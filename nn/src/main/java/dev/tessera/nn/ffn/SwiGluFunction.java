package dev.tessera.nn.ffn;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.SwiGlu;
import dev.tessera.tensor.Tensor;

/**
 * SwiGLU's gate, SiLU(gate)·up, as one autograd node over the fused kernels of {@link SwiGlu}
 * (equations there). Tested equal, values and gradients, to {@code silu(gate).mul(up)}. Operands
 * without a heap array (off-heap, memory-mapped) are copied to the heap first, since those kernels
 * read arrays.
 */
final class SwiGluFunction extends CustomFunction {
    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        Tensor gate = DenseRows.onHeap(inputs[0]);
        Tensor up = DenseRows.onHeap(inputs[1]);
        ctx.save(gate, up);
        return SwiGlu.forward(gate, up);
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        return SwiGlu.backward(ctx.saved(0), ctx.saved(1), DenseRows.onHeap(grad));
    }

    @Override
    protected String name() {
        return "swiglu";
    }
}
