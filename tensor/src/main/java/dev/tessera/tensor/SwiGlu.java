package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SwiGLU gate of a feed-forward block as one pass over memory (Shazeer 2020, "GLU Variants
 * Improve Transformer"): y = SiLU(a)·b with SiLU(a) = a·σ(a), and its backward
 * <pre>
 *   ∂L/∂a = g·b·σ(a)·(1 + a·(1 − σ(a)))      ∂L/∂b = g·SiLU(a)
 * </pre>
 * The composite (silu, then mul; backward through sigmoid, neg, add, mul...) streams the
 * activations through memory some fifteen times; these kernels read a, b (and g) once. σ uses the
 * same {@link VectorMath#exp} as {@link UnaryOp#SIGMOID} and {@link UnaryOp#SILU}, so the forward
 * gives the composite's bits. Inputs of the same shape, on any storage (mapped or off-heap inputs
 * are copied to the heap once); F32 runs the vector kernel, other dtypes compute in double.
 */
public final class SwiGlu {
    private static final VectorSpecies<Float> S = Simd.F32;
    private static final int GRAIN = 1 << 14;

    private SwiGlu() {}

    /** y = SiLU(a)·b. */
    public static Tensor forward(Tensor a, Tensor b) {
        check("swiglu", a, b, null);
        DType compute = a.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor x = a.heapContiguous(compute);
        Tensor u = b.heapContiguous(compute);
        Tensor y = Tensor.zeros(compute, a.shape());
        int n = y.numel();
        if (compute == DType.F32) {
            float[] xa = x.storage().floats();
            float[] ua = u.storage().floats();
            float[] ya = y.storage().floats();
            int xo = x.offset();
            int uo = u.offset();
            Parallel.forEachRange(n, GRAIN, (chunk, from, to) -> {
                int i = from;
                for (int upper = from + Simd.loopBound(to - from); i < upper; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, xa, xo + i);
                    FloatVector silu = v.div(VectorMath.exp(v.neg()).add(1f));
                    silu.mul(FloatVector.fromArray(S, ua, uo + i)).intoArray(ya, i);
                }
                for (; i < to; i++) {
                    ya[i] = (float) UnaryOp.SILU.apply(xa[xo + i]) * ua[uo + i];
                }
            });
        } else {
            double[] xa = x.storage().doubles();
            double[] ua = u.storage().doubles();
            double[] ya = y.storage().doubles();
            for (int i = 0; i < n; i++) {
                ya[i] = UnaryOp.SILU.apply(xa[x.offset() + i]) * ua[u.offset() + i];
            }
        }
        return y.to(DType.promote(a.dtype(), b.dtype()));
    }

    /** {∂L/∂a, ∂L/∂b} for y = SiLU(a)·b given g = ∂L/∂y. */
    public static Tensor[] backward(Tensor a, Tensor b, Tensor g) {
        check("swiglu backward", a, b, g);
        DType compute = a.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor x = a.heapContiguous(compute);
        Tensor u = b.heapContiguous(compute);
        Tensor gr = g.heapContiguous(compute);
        Tensor da = Tensor.zeros(compute, a.shape());
        Tensor db = Tensor.zeros(compute, a.shape());
        int n = da.numel();
        if (compute == DType.F32) {
            float[] xa = x.storage().floats();
            float[] ua = u.storage().floats();
            float[] ga = gr.storage().floats();
            float[] dav = da.storage().floats();
            float[] dbv = db.storage().floats();
            int xo = x.offset();
            int uo = u.offset();
            int go = gr.offset();
            Parallel.forEachRange(n, GRAIN, (chunk, from, to) -> {
                int i = from;
                for (int upper = from + Simd.loopBound(to - from); i < upper; i += S.length()) {
                    FloatVector v = FloatVector.fromArray(S, xa, xo + i);
                    FloatVector sig = FloatVector.broadcast(S, 1f).div(VectorMath.exp(v.neg()).add(1f));
                    FloatVector gv = FloatVector.fromArray(S, ga, go + i);
                    FloatVector dsilu = sig.mul(v.mul(sig.neg().add(1f)).add(1f));
                    gv.mul(FloatVector.fromArray(S, ua, uo + i)).mul(dsilu).intoArray(dav, i);
                    gv.mul(v.mul(sig)).intoArray(dbv, i);
                }
                for (; i < to; i++) {
                    double gate = xa[xo + i];
                    double sig = UnaryOp.SIGMOID.apply(gate);
                    dav[i] = (float) gateGrad(gate, ua[uo + i], ga[go + i], sig);
                    dbv[i] = (float) (ga[go + i] * gate * sig);
                }
            });
        } else {
            double[] xa = x.storage().doubles();
            double[] ua = u.storage().doubles();
            double[] ga = gr.storage().doubles();
            double[] dav = da.storage().doubles();
            double[] dbv = db.storage().doubles();
            for (int i = 0; i < n; i++) {
                double gate = xa[x.offset() + i];
                double sig = UnaryOp.SIGMOID.apply(gate);
                dav[i] = gateGrad(gate, ua[u.offset() + i], ga[gr.offset() + i], sig);
                dbv[i] = ga[gr.offset() + i] * gate * sig;
            }
        }
        return new Tensor[] {da.to(a.dtype()), db.to(b.dtype())};
    }

    /** ∂L/∂a = g·b·σ(a)·(1 + a·(1 − σ(a))), given σ(a). */
    private static double gateGrad(double a, double b, double g, double sig) {
        return g * b * sig * (1 + a * (1 - sig));
    }

    private static void check(String op, Tensor a, Tensor b, Tensor g) {
        if (!java.util.Arrays.equals(a.shape(), b.shape()) || (g != null && !java.util.Arrays.equals(a.shape(), g.shape()))) {
            throw new IllegalArgumentException(op + ": gate, up" + (g == null ? "" : " and grad") + " must have the same shape, got "
                    + Shapes.str(a.shape()) + ", " + Shapes.str(b.shape()) + (g == null ? "" : ", " + Shapes.str(g.shape())));
        }
        if (!a.dtype().isFloating() || !b.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": needs floating inputs, got " + a.dtype() + " and " + b.dtype());
        }
    }
}
