package dev.tessera.autograd;

import dev.tessera.tensor.Dispatch;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
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

    /**
     * Applies the function, recording it when any input requires grad. Forward and backward each run
     * as one op through {@link Dispatch} (named {@link #name()} and {@code name.backward}): a device
     * backend runs them as it runs any op, and tensors saved for backward stay on the device.
     */
    public final Variable call(Variable... inputs) {
        Tensor[] data = new Tensor[inputs.length];
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            data[i] = inputs[i].data();
            needs[i] = inputs[i].requiresGrad();
        }
        Context ctx = new Context(needs);
        String op = name();
        Tensor[] outAndSaved;
        try (var scope = GradMode.noGrad()) {
            outAndSaved = Dispatch.run(op, this, in -> {
                Tensor out = forward(ctx, in);
                List<Tensor> all = new ArrayList<>(ctx.saved.size() + 1);
                all.add(out);
                all.addAll(ctx.saved);
                return all.toArray(new Tensor[0]);
            }, data);
        }
        ctx.saved.clear();
        ctx.saved.addAll(Arrays.asList(outAndSaved).subList(1, outAndSaved.length));
        return Variable.record(op, outAndSaved[0], g -> {
            Tensor[] gradAndSaved = new Tensor[1 + ctx.saved.size()];
            gradAndSaved[0] = g;
            for (int i = 0; i < ctx.saved.size(); i++) {
                gradAndSaved[i + 1] = ctx.saved.get(i);
            }
            Tensor[] grads = Dispatch.run(op + ".backward", this, in -> backwardOn(ctx, in), gradAndSaved);
            if (grads.length != inputs.length) {
                throw new IllegalStateException(op + ": backward returned " + grads.length + " gradients for " + inputs.length + " inputs");
            }
            return grads;
        }, ctx.saved.toArray(new Tensor[0]), inputs);
    }

    /** backward with the saved tensors as the kernel sees them ({@code in[1..]}); the context keeps its own afterwards. */
    private Tensor[] backwardOn(Context ctx, Tensor[] in) {
        List<Tensor> own = new ArrayList<>(ctx.saved);
        ctx.saved.clear();
        ctx.saved.addAll(Arrays.asList(in).subList(1, in.length));
        try {
            return backward(ctx, in[0]);
        } finally {
            ctx.saved.clear();
            ctx.saved.addAll(own);
        }
    }
}
