package dev.tessera.autograd;

import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A user-defined differentiable op in one small class (PyTorch's {@code autograd.Function}):
 * implement {@link #forward} on plain tensors, save what backward needs in the context, and return
 * one gradient per input from {@link #backward}.
 *
 * <pre>{@code
 * final class Square extends CustomFunction {
 *     protected Tensor forward(Context ctx, Tensor... in) { ctx.save(in[0]); return in[0].square(); }
 *     protected Tensor[] backward(Context ctx, Tensor g) { return new Tensor[] {g.mul(ctx.saved(0)).mul(2)}; }
 * }
 * Variable y = new Square().call(x);
 * }</pre>
 */
public abstract class CustomFunction {

    /** What forward leaves for backward. Saved tensors are checked for in-place modification. */
    public static final class Context {
        private final List<Tensor> saved = new ArrayList<>();
        private final boolean[] needsInputGrad;

        Context(boolean[] needsInputGrad) {
            this.needsInputGrad = needsInputGrad;
        }

        public void save(Tensor... tensors) {
            saved.addAll(List.of(tensors));
        }

        public Tensor saved(int i) {
            return saved.get(i);
        }

        /** Whether input {@code i} needs a gradient (backward may return null for it otherwise). */
        public boolean needsInputGrad(int i) {
            return needsInputGrad[i];
        }
    }

    protected abstract Tensor forward(Context ctx, Tensor... inputs);

    protected abstract Tensor[] backward(Context ctx, Tensor gradOutput);

    /** The op's name in errors and graph exports (default: the class's simple name). */
    protected String name() {
        return getClass().getSimpleName();
    }

    /** Applies the function, recording it when any input requires grad. */
    public final Variable call(Variable... inputs) {
        Tensor[] data = new Tensor[inputs.length];
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            data[i] = inputs[i].data();
            needs[i] = inputs[i].requiresGrad();
        }
        Context ctx = new Context(needs);
        Tensor out;
        try (var scope = GradMode.noGrad()) {
            out = forward(ctx, data);
        }
        String op = name();
        return Variable.record(op, out, g -> {
            Tensor[] grads = backward(ctx, g);
            if (grads.length != inputs.length) {
                throw new IllegalStateException(op + ": backward returned " + grads.length + " gradients for " + inputs.length + " inputs");
            }
            return grads;
        }, ctx.saved.toArray(new Tensor[0]), inputs);
    }
}
