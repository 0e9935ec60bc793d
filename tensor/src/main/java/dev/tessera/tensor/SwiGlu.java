package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SwiGLU gate of a feed-forward block as one pass over memory (Shazeer 2020, "GLU Variants
 * Improve Transformer"): y = SiLU(a)·b with SiLU(a) = a·σ(a), and its backward
 * <pre>
 *   ∂L/∂a = g·b·σ(a)·(1 + a·(1 − σ(a)))      ∂L/∂b = g·SiLU(a)
 * </pre>
 * The composite (silu, then mul; backward through sigmoid, neg, add, mul...) streams the
 * activations through memory some fifteen times; these kernels read a, b (and g) once. σ is the
 * same {@link VectorMath#timesSigmoid} as {@link UnaryOp#SIGMOID} and {@link UnaryOp#SILU} use, for
 * every element (a chunk's tail goes through lane-padded buffers), so the forward gives the
 * composite's bits. Inputs of the same shape, on any storage (mapped or off-heap inputs
 * are copied to the heap once); F32 runs the vector kernel, other dtypes compute in double.
 */
public final class SwiGlu {
    private static final VectorSpecies<Float> S = Simd.F32;
    private static final int GRAIN = 1 << 14;

    private SwiGlu() {}

    /** y = SiLU(a)·b. */
    public static Tensor forward(Tensor a, Tensor b) {
        return Dispatch.run("swiglu", null, in -> forwardOnHost(in[0], in[1]), a, b);
    }

    private static Tensor forwardOnHost(Tensor a, Tensor b) {
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
                if (!Simd.ENABLED) {
                    for (int i = from; i < to; i++) {
                        ya[i] = (float) UnaryOp.SILU.apply(xa[xo + i]) * ua[uo + i];
                    }
                    return;
                }
                forwardVectors(xa, xo + from, ua, uo + from, ya, from, to - from);
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
        return Dispatch.run("swiglu_backward", null, in -> backwardOnHost(in[0], in[1], in[2]), a, b, g);
    }

    private static Tensor[] backwardOnHost(Tensor a, Tensor b, Tensor g) {
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
                if (!Simd.ENABLED) {
                    for (int i = from; i < to; i++) {
                        double gate = xa[xo + i];
                        double sig = UnaryOp.SIGMOID.apply(gate);
                        dav[i] = (float) gateGrad(gate, ua[uo + i], ga[go + i], sig);
                        dbv[i] = (float) (ga[go + i] * gate * sig);
                    }
                    return;
                }
                backwardVectors(xa, xo + from, ua, uo + from, ga, go + from, dav, dbv, from, to - from);
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

    /** y = SiLU(x)·u over {@code count} elements; SiLU as {@link UnaryOp#SILU}'s vector form. */
    private static void forwardVectors(float[] x, int xo, float[] u, int uo, float[] y, int yo, int count) {
        VectorMath.timesSigmoid(x, xo, x, xo, y, yo, count);
        // whole vectors by plain loads and stores, the partial one in a call of its own (see VectorMath's kernels)
        int upper = VectorMath.wholeVectors(count);
        int i = 0;
        for (; i < upper; i += S.length()) {
            FloatVector.fromArray(S, y, yo + i).mul(FloatVector.fromArray(S, u, uo + i)).intoArray(y, yo + i);
        }
        if (i < count) {
            forwardTail(u, uo + i, y, yo + i, S.indexInRange(i, count));
        }
    }

    private static void forwardTail(float[] u, int uo, float[] y, int yo, VectorMask<Float> tail) {
        FloatVector.fromArray(S, y, yo, tail).mul(FloatVector.fromArray(S, u, uo, tail)).intoArray(y, yo, tail);
    }

    /**
     * da = g·u·σ(x)·(1 + x·(1 − σ(x))) and db = g·x·σ(x) over {@code count} elements, written from
     * {@code o} on in da and db (σ(x) passes through da).
     */
    private static void backwardVectors(float[] x, int xo, float[] u, int uo, float[] g, int go, float[] da, float[] db, int o,
            int count) {
        VectorMath.timesSigmoid(null, 0, x, xo, da, o, count);
        int upper = VectorMath.wholeVectors(count);
        int i = 0;
        for (; i < upper; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector sig = FloatVector.fromArray(S, da, o + i);
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            FloatVector dsilu = sig.mul(v.mul(sig.neg().add(1f)).add(1f));
            FloatVector uv = FloatVector.fromArray(S, u, uo + i);
            gv.mul(uv).mul(dsilu).intoArray(da, o + i);
            gv.mul(v.mul(sig)).intoArray(db, o + i);
        }
        if (i < count) {
            backwardTail(x, xo + i, u, uo + i, g, go + i, da, db, o + i, S.indexInRange(i, count));
        }
    }

    /** The last, partial vector of {@link #backwardVectors}, the same lane arithmetic under a mask. */
    private static void backwardTail(float[] x, int xo, float[] u, int uo, float[] g, int go, float[] da, float[] db, int o,
            VectorMask<Float> tail) {
        FloatVector v = FloatVector.fromArray(S, x, xo, tail);
        FloatVector sig = FloatVector.fromArray(S, da, o, tail);
        FloatVector gv = FloatVector.fromArray(S, g, go, tail);
        FloatVector dsilu = sig.mul(v.mul(sig.neg().add(1f)).add(1f));
        FloatVector uv = FloatVector.fromArray(S, u, uo, tail);
        gv.mul(uv).mul(dsilu).intoArray(da, o, tail);
        gv.mul(v.mul(sig)).intoArray(db, o, tail);
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
