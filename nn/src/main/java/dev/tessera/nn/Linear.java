package dev.tessera.nn;

import dev.tessera.autograd.Autocast;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * y = x Wᵀ + b with W of shape (out, in), as torch.nn.Linear and Hugging Face checkpoints store
 * it; the bias is optional (A3: modern LLMs drop it). The product reads Wᵀ as a view, no copy.
 * Under {@link Autocast} (G9) it is one matmul-class op: x, W and b rounded to the low type, the
 * output rounded once, as torch's autocast linear.
 */
public final class Linear extends Module implements Layer {
    private final Variable weight;
    private final Variable bias;
    private final int in;
    private final int out;

    /** PyTorch's default init: U(±1/√in) for weight and bias. */
    public Linear(int in, int out, boolean bias, Generator g) {
        this(in, out, bias, Init.kaimingUniform(g, 1 / Math.sqrt(3), out, in));
        if (bias) {
            double bound = 1 / Math.sqrt(in);
            this.bias.data().copyFromInPlace(Init.uniform(g, -bound, bound, out));
        }
    }

    /** With an explicit initial weight of shape (out, in). */
    public Linear(int in, int out, boolean bias, Tensor initialWeight) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("Linear: sizes must be positive, got in=" + in + " out=" + out);
        }
        if (initialWeight.rank() != 2 || initialWeight.size(0) != out || initialWeight.size(1) != in) {
            throw new IllegalArgumentException("Linear: initial weight has shape " + java.util.Arrays.toString(initialWeight.shape())
                    + ", expected [" + out + ", " + in + "]");
        }
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", initialWeight);
        this.bias = bias ? parameter("bias", Tensor.zeros(initialWeight.dtype(), out)) : null;
    }

    @Override
    public Variable forward(Variable x) {
        if (x.size(-1) != in) {
            throw new IllegalArgumentException("Linear: input has " + x.size(-1) + " features, expected " + in + " (input shape "
                    + java.util.Arrays.toString(x.shape()) + ")");
        }
        // one matmul-class op under autocast (G9): the bias joins the product before the one rounding, as in torch's addmm
        return Autocast.apply(in -> in[2] == null ? in[0].matmul(in[1].mT()) : in[0].matmul(in[1].mT()).add(in[2]), x, weight, bias);
    }

    public Variable weight() {
        return weight;
    }

    public Variable bias() {
        return bias;
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }
}
