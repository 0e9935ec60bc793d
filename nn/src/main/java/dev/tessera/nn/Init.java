package dev.tessera.nn;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * Parameter initialisers, all drawn from an explicit {@link Generator}. Fans follow PyTorch for a
 * (out, in) weight: fanIn = in, fanOut = out.
 */
public final class Init {
    private Init() {}

    public static Tensor zeros(int... shape) {
        return Tensor.zeros(DType.F32, shape);
    }

    public static Tensor ones(int... shape) {
        return Tensor.ones(DType.F32, shape);
    }

    /** N(0, std²). */
    public static Tensor normal(Generator g, double std, int... shape) {
        return Tensor.randn(g, DType.F32, shape).mul(std);
    }

    /** U(a, b). */
    public static Tensor uniform(Generator g, double a, double b, int... shape) {
        return Tensor.rand(g, DType.F32, shape).mul(b - a).add(a);
    }

    /**
     * N(0, std²) truncated to [a, b] by rejection (redrawing out-of-range values), as
     * torch.nn.init.trunc_normal_ defines the distribution.
     */
    public static Tensor truncatedNormal(Generator g, double std, double a, double b, int... shape) {
        if (!(a < b)) {
            throw new IllegalArgumentException("truncatedNormal: need a < b, got [" + a + ", " + b + "]");
        }
        Tensor t = Tensor.zeros(DType.F32, shape);
        float[] data = t.storage().floats();
        for (int i = 0; i < data.length; i++) {
            double v;
            do {
                v = g.nextGaussian() * std;
            } while (v < a || v > b);
            data[i] = (float) v;
        }
        return t;
    }

    /** Glorot &amp; Bengio 2010: U(±gain·√(6/(fanIn+fanOut))). */
    public static Tensor xavierUniform(Generator g, double gain, int fanOut, int fanIn) {
        double bound = gain * Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(g, -bound, bound, fanOut, fanIn);
    }

    /** Glorot &amp; Bengio 2010: N(0, gain²·2/(fanIn+fanOut)). */
    public static Tensor xavierNormal(Generator g, double gain, int fanOut, int fanIn) {
        return normal(g, gain * Math.sqrt(2.0 / (fanIn + fanOut)), fanOut, fanIn);
    }

    /** He et al. 2015, fan-in mode: U(±gain·√(3/fanIn)); gain √2 for ReLU. */
    public static Tensor kaimingUniform(Generator g, double gain, int fanOut, int fanIn) {
        double bound = gain * Math.sqrt(3.0 / fanIn);
        return uniform(g, -bound, bound, fanOut, fanIn);
    }

    /** He et al. 2015, fan-in mode: N(0, gain²/fanIn). */
    public static Tensor kaimingNormal(Generator g, double gain, int fanOut, int fanIn) {
        return normal(g, gain / Math.sqrt(fanIn), fanOut, fanIn);
    }

    /**
     * GPT-2 / Megatron scaled residual init (D7): projections that write into the residual stream
     * get std / √(2·layers), so the residual's variance does not grow with depth.
     */
    public static Tensor scaledResidual(Generator g, double std, int layers, int fanOut, int fanIn) {
        return normal(g, std / Math.sqrt(2.0 * layers), fanOut, fanIn);
    }
}
