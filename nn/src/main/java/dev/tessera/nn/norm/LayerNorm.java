package dev.tessera.nn.norm;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;

/**
 * Layer normalization (Ba, Kiros &amp; Hinton 2016) over the last dimension:
 * y = (x − μ) / √(σ² + ε) · γ + β, with μ and the biased σ² taken over the last dim. The affine
 * weight γ and bias β are optional (A3: many LLMs drop β). Computes in F32 for half inputs.
 */
public final class LayerNorm extends Module implements Layer {
    private final int dim;
    private final double eps;
    private final Variable weight;
    private final Variable bias;

    public LayerNorm(int dim, double eps, boolean elementwiseAffine, boolean bias, DType dtype) {
        if (dim <= 0 || !(eps >= 0)) {
            throw new IllegalArgumentException("LayerNorm: need dim > 0 and eps >= 0, got dim=" + dim + " eps=" + eps);
        }
        Params.checkFloating("LayerNorm", dtype);
        this.dim = dim;
        this.eps = eps;
        this.weight = elementwiseAffine ? parameter("weight", Params.ones(dtype, dim)) : null;
        this.bias = elementwiseAffine && bias ? parameter("bias", Params.zeros(dtype, dim)) : null;
    }

    public LayerNorm(int dim, double eps) {
        this(dim, eps, true, true, DType.F32);
    }

    @Override
    public Variable forward(Variable x) {
        if (x.size(-1) != dim) {
            throw new IllegalArgumentException("LayerNorm: input has " + x.size(-1) + " features, expected " + dim + " (input shape "
                    + java.util.Arrays.toString(x.shape()) + ")");
        }
        return apply(x, weight, bias, eps);
    }

    /**
     * The norm as a function over the last dimension: (x − mean) / √(var + ε) · weight + bias, computed
     * in F32 (F64 stays F64) and returned in x's dtype; weight and bias may be null.
     */
    public static Variable apply(Variable x, Variable weight, Variable bias, double eps) {
        DType in = x.dtype();
        Variable h = in == DType.F64 ? x : x.to(DType.F32);
        Variable centered = h.sub(h.mean(true, -1));
        Variable y = centered.mul(centered.square().mean(true, -1).add(eps).rsqrt());
        if (weight != null) {
            y = y.mul(weight);
        }
        if (bias != null) {
            y = y.add(bias);
        }
        return y.dtype() == in ? y : y.to(in);
    }

    public Variable weight() {
        return weight;
    }

    public Variable bias() {
        return bias;
    }
}
