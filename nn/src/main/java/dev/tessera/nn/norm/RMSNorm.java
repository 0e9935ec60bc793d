package dev.tessera.nn.norm;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Layer;
import dev.tessera.nn.Module;
import dev.tessera.nn.Params;
import dev.tessera.tensor.DType;

/**
 * Root mean square layer normalization (Zhang &amp; Sennrich 2019) over the last dimension:
 * y = x / √(mean(x²) + ε) · g. As Llama, the statistic is computed in F32 (F64 inputs stay F64)
 * and the normalised value is cast back to the input dtype before the weight multiplies it.
 */
public final class RMSNorm extends Module implements Layer {
    private final int dim;
    private final double eps;
    private final Variable weight;

    public RMSNorm(int dim, double eps, boolean elementwiseAffine, DType dtype) {
        if (dim <= 0 || !(eps >= 0)) {
            throw new IllegalArgumentException("RMSNorm: need dim > 0 and eps >= 0, got dim=" + dim + " eps=" + eps);
        }
        Params.checkFloating("RMSNorm", dtype);
        this.dim = dim;
        this.eps = eps;
        this.weight = elementwiseAffine ? parameter("weight", Params.ones(dtype, dim)) : null;
    }

    public RMSNorm(int dim, double eps) {
        this(dim, eps, true, DType.F32);
    }

    @Override
    public Variable forward(Variable x) {
        if (x.size(-1) != dim) {
            throw new IllegalArgumentException("RMSNorm: input has " + x.size(-1) + " features, expected " + dim + " (input shape "
                    + java.util.Arrays.toString(x.shape()) + ")");
        }
        return apply(x, weight, eps);
    }

    /** The norm as a function over the last dimension: x / √(mean(x²) + ε) · weight (weight may be null), in x's dtype. */
    public static Variable apply(Variable x, Variable weight, double eps) {
        if (weight != null && x.dtype() == weight.dtype() && (x.dtype() == DType.F32 || x.dtype() == DType.F64)) {
            return new RmsNormFunction(eps).call(x, weight); // half inputs keep HF's rounding via the composite
        }
        return composite(x, weight, eps);
    }

    /** The same norm from recorded primitives: the reference the fused {@link RmsNormFunction} is tested against. */
    Variable forwardComposite(Variable x) {
        return composite(x, weight, eps);
    }

    private static Variable composite(Variable x, Variable weight, double eps) {
        DType in = x.dtype();
        Variable h = in == DType.F64 ? x : x.to(DType.F32);
        Variable y = h.mul(h.square().mean(true, -1).add(eps).rsqrt());
        if (y.dtype() != in) {
            y = y.to(in);
        }
        return weight == null ? y : y.mul(weight);
    }

    public Variable weight() {
        return weight;
    }
}
