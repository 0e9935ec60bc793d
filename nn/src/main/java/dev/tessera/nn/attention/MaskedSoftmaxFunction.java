package dev.tessera.nn.attention;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.tensor.Tensor;

/**
 * Attention probabilities in one fused op: p = softmax(α·s) over the last dim with disallowed
 * keys left out, instead of a scale, a masked fill with −∞ and a softmax, each recorded. Backward:
 * ds = α·p ⊙ (g − Σ g ⊙ p). Tested equal to that composite in {@code MaskedSoftmaxTest}.
 */
final class MaskedSoftmaxFunction extends CustomFunction {
    private final Tensor allowed;
    private final double scale;

    MaskedSoftmaxFunction(Tensor allowed, double scale) {
        this.allowed = allowed;
        this.scale = scale;
    }

    @Override
    protected String name() {
        return "masked_softmax";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        Tensor p = inputs[0].maskedSoftmax(allowed, scale);
        ctx.save(p);
        return p;
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor g) {
        Tensor p = ctx.saved(0);
        return new Tensor[] {p.softmaxBackward(g, scale)};
    }
}
