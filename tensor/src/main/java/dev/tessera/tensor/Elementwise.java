package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU kernels for the elementwise ops. Results are computed in the operands' compute type (F32,
 * F64 or I64) and written into a possibly strided output. F32 unary ops with a vector form run on
 * the Vector API for every element (strided rows and tails staged through a buffer), so their bits
 * do not depend on layout; F32 binary rows with unit strides (or a broadcast scalar) run on it too,
 * where the vector and scalar forms round identically. Everything else runs the scalar twin, which
 * is also the reference for {@code -Dtessera.simd=off}.
 */
final class Elementwise {
    private static final VectorSpecies<Float> S = Simd.F32;

    private Elementwise() {}

    /** Both contiguous F32 with the same shape: one flat row, no stride bookkeeping (small tensors pay little). */
    private static boolean flatF32(Tensor out, Tensor... inputs) {
        if (!(out.storage().array() instanceof float[]) || !out.isContiguous()) {
            return false;
        }
        for (Tensor t : inputs) {
            if (!(t.storage().array() instanceof float[]) || !t.isContiguous() || t.numel() != out.numel()) {
                return false;
            }
        }
        return true;
    }

    /** out = op(x); all three arrays of one compute type, out may alias x (in place). */
    static void unary(UnaryOp op, Tensor x, Tensor out) {
        if (flatF32(out, x)) {
            float[] a = x.storage().floats();
            float[] o = out.storage().floats();
            int xo = x.offset();
            int oo = out.offset();
            Parallel.forEachRange(out.numel(), StridedLoop.GRAIN, (c, from, to) -> unaryF32(op, a, xo + from, 1, o, oo + from, 1, to - from));
            return;
        }
        StridedLoop loop = new StridedLoop(out.shape(), new int[][] {out.strides(), x.strides()}, new int[] {out.offset(), x.offset()});
        int so = loop.innerStride(0);
        int sx = loop.innerStride(1);
        switch (out.storage().array()) {
            case float[] o -> {
                float[] a = x.storage().floats();
                loop.forEachRow((oo, xo, unused, unused2, n) -> unaryF32(op, a, xo, sx, o, oo, so, n));
            }
            case double[] o -> {
                double[] a = x.storage().doubles();
                loop.forEachRow((oo, xo, unused, unused2, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = op.apply(a[xo + i * sx]);
                    }
                });
            }
            case long[] o -> {
                long[] a = x.storage().longs();
                loop.forEachRow((oo, xo, unused, unused2, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = op.applyLong(a[xo + i * sx]);
                    }
                });
            }
            default -> throw new IllegalStateException("unary: unexpected output storage " + out.dtype());
        }
    }

    /** out = op(a, b) with a and b already broadcast (stride 0) to out's shape. */
    static void binary(BinaryOp op, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor out) {
        if (!op.isPredicate() && java.util.Arrays.equals(aStrides, out.strides()) && java.util.Arrays.equals(bStrides, out.strides())
                && flatF32(out, a, b)) {
            float[] x = a.storage().floats();
            float[] y = b.storage().floats();
            float[] o = out.storage().floats();
            int ao = a.offset();
            int bo = b.offset();
            int oo = out.offset();
            Parallel.forEachRange(out.numel(), StridedLoop.GRAIN,
                    (c, from, to) -> binaryF32(op, x, ao + from, y, bo + from, 1, o, oo + from, to - from));
            return;
        }
        StridedLoop loop = new StridedLoop(out.shape(), new int[][] {out.strides(), aStrides, bStrides},
                new int[] {out.offset(), a.offset(), b.offset()});
        int so = loop.innerStride(0);
        int sa = loop.innerStride(1);
        int sb = loop.innerStride(2);
        Object left = a.storage().array();
        Object right = b.storage().array();
        switch (out.storage().array()) {
            case float[] o -> {
                float[] x = (float[]) left;
                float[] y = (float[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    if (so == 1 && sa == 1 && (sb == 1 || sb == 0)) {
                        binaryF32(op, x, ao, y, bo, sb, o, oo, n);
                    } else {
                        for (int i = 0; i < n; i++) {
                            o[oo + i * so] = (float) op.apply(x[ao + i * sa], y[bo + i * sb]);
                        }
                    }
                });
            }
            case double[] o -> {
                double[] x = (double[]) left;
                double[] y = (double[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = op.apply(x[ao + i * sa], y[bo + i * sb]);
                    }
                });
            }
            case long[] o -> {
                long[] x = (long[]) left;
                long[] y = (long[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = op.applyLong(x[ao + i * sa], y[bo + i * sb]);
                    }
                });
            }
            case byte[] o -> predicate(op, left, right, loop, o, so, sa, sb);
            default -> throw new IllegalStateException("binary: unexpected output storage " + out.dtype());
        }
    }

    /** Comparisons and logical ops: compute-type inputs, BOOL output. */
    private static void predicate(BinaryOp op, Object left, Object right, StridedLoop loop, byte[] o, int so, int sa, int sb) {
        switch (left) {
            case float[] x -> {
                float[] y = (float[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = (byte) op.apply(x[ao + i * sa], y[bo + i * sb]);
                    }
                });
            }
            case double[] x -> {
                double[] y = (double[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = (byte) op.apply(x[ao + i * sa], y[bo + i * sb]);
                    }
                });
            }
            case long[] x -> {
                long[] y = (long[]) right;
                loop.forEachRow((oo, ao, bo, unused, n) -> {
                    for (int i = 0; i < n; i++) {
                        o[oo + i * so] = (byte) op.applyLong(x[ao + i * sa], y[bo + i * sb]);
                    }
                });
            }
            default -> throw new IllegalStateException("predicate: unexpected input storage");
        }
    }

    /** out = cond ? a : b, all already broadcast to out's shape; cond is BOOL, a/b/out share a compute type. */
    static void where(Tensor cond, int[] cStrides, Tensor a, int[] aStrides, Tensor b, int[] bStrides, Tensor out) {
        int[] oStrides = out.strides();
        StridedLoop loop = new StridedLoop(out.shape(), new int[][] {cStrides, aStrides, bStrides, oStrides},
                new int[] {cond.offset(), a.offset(), b.offset(), out.offset()});
        byte[] c = (byte[]) cond.storage().array();
        Storage x = a.storage();
        Storage y = b.storage();
        Storage o = out.storage();
        int sc = loop.innerStride(0);
        int sa = loop.innerStride(1);
        int sb = loop.innerStride(2);
        int so = loop.innerStride(3);
        if (x.array() instanceof float[] xa && y.array() instanceof float[] ya && o.array() instanceof float[] oa) {
            loop.forEachRow((co, ao, bo, oo, n) -> {
                for (int i = 0; i < n; i++) {
                    oa[oo + i * so] = c[co + i * sc] != 0 ? xa[ao + i * sa] : ya[bo + i * sb];
                }
            });
            return;
        }
        loop.forEachRow((co, ao, bo, oo, n) -> {
            for (int i = 0; i < n; i++) {
                if (c[co + i * sc] != 0) {
                    Copy.element(x, ao + i * sa, o, oo + i * so);
                } else {
                    Copy.element(y, bo + i * sb, o, oo + i * so);
                }
            }
        });
    }

    /** Elements staged through a buffer per step when a row is strided or ends in a partial vector. */
    private static final int STAGE = 256;

    /**
     * y[i·sy] = op(x[i·sx]) for i &lt; n. An op with a vector form computes every element with it,
     * whatever the strides or the row length: strided elements and the tail that does not fill a
     * vector go through a buffer padded to whole vectors. So an element's bits depend only on its
     * value (not on its position, layout or storage), and ops without a vector form, or
     * {@code -Dtessera.simd=off}, take the scalar twin {@link UnaryOp#apply} for every element.
     */
    private static void unaryF32(UnaryOp op, float[] x, int xo, int sx, float[] y, int yo, int sy, int n) {
        if (!Simd.ENABLED || !hasVectorForm(op)) {
            for (int i = 0; i < n; i++) {
                y[yo + i * sy] = (float) op.apply(x[xo + i * sx]);
            }
            return;
        }
        int direct = sx == 1 && sy == 1 ? S.loopBound(n) : 0;
        unaryVector(op, x, xo, y, yo, direct);
        if (direct == n) {
            return;
        }
        int lanes = S.length();
        float[] buf = new float[Math.min(STAGE, (n - direct + lanes - 1) / lanes * lanes)];
        for (int from = direct; from < n; from += buf.length) {
            int len = Math.min(buf.length, n - from);
            int padded = (len + lanes - 1) / lanes * lanes;
            for (int i = 0; i < len; i++) {
                buf[i] = x[xo + (from + i) * sx];
            }
            java.util.Arrays.fill(buf, len, padded, 0f);
            unaryVector(op, buf, 0, buf, 0, padded);
            for (int i = 0; i < len; i++) {
                y[yo + (from + i) * sy] = buf[i];
            }
        }
    }

    /**
     * Whether {@link #unaryVector} has a vector form of {@code op}. Against the scalar twin (the
     * double-precision {@link UnaryOp#apply} rounded to float) the forms agree: bitwise for NEG, ABS,
     * SQRT, SQUARE, RECIPROCAL and RELU (one IEEE rounding either way); within 1 ulp for RSQRT (two
     * float roundings), 2 for EXP, 3 for TANH and SIGMOID, 4 for SILU; GELU_TANH within
     * 4·(1 + |2u|) ulps, u = √(2/π)(x + 0.044715x³), as u is rounded in float and σ(2u) magnifies
     * that by |2u|. NaN in, NaN out. SimdTwinTest checks these at edge and random values.
     */
    static boolean hasVectorForm(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, SQRT, RSQRT, SQUARE, RECIPROCAL, RELU, EXP, TANH, SIGMOID, SILU, GELU_TANH -> true;
            default -> false;
        };
    }

    /** The vector forms over {@code n} unit-stride elements, n a multiple of the lane count. */
    private static void unaryVector(UnaryOp op, float[] x, int xo, float[] y, int yo, int n) {
        int lanes = S.length();
        int i = 0;
        switch (op) {
            case NEG -> { for (; i < n; i += lanes) load(x, xo + i).neg().intoArray(y, yo + i); }
            case ABS -> { for (; i < n; i += lanes) load(x, xo + i).abs().intoArray(y, yo + i); }
            case SQRT -> { for (; i < n; i += lanes) load(x, xo + i).sqrt().intoArray(y, yo + i); }
            case RSQRT -> { for (; i < n; i += lanes) FloatVector.broadcast(S, 1f).div(load(x, xo + i).sqrt()).intoArray(y, yo + i); }
            case SQUARE -> { for (; i < n; i += lanes) { FloatVector v = load(x, xo + i); v.mul(v).intoArray(y, yo + i); } }
            case RECIPROCAL -> { for (; i < n; i += lanes) FloatVector.broadcast(S, 1f).div(load(x, xo + i)).intoArray(y, yo + i); }
            case RELU -> { for (; i < n; i += lanes) load(x, xo + i).max(0f).intoArray(y, yo + i); }
            // transcendental ops use VectorMath (same bits in every JIT tier), through its array kernels where
            // one exists: a vector function that C2 leaves out of line boxes every vector it passes
            case EXP -> VectorMath.expShifted(x, xo, 0f, y, yo, n); // x − 0 is x, −0 and NaN included
            case TANH -> { for (; i < n; i += lanes) VectorMath.tanh(load(x, xo + i)).intoArray(y, yo + i); }
            case SIGMOID -> VectorMath.timesSigmoid(null, 0, x, xo, y, yo, n);
            case SILU -> VectorMath.timesSigmoid(x, xo, x, xo, y, yo, n);
            case GELU_TANH -> {
                // ½x(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³): no cancellation where tanh u → −1,
                // and no overflow for |x| near MAX_VALUE (u = ±inf gives σ = 0 or 1); 2u goes through y
                float c2 = (float) (2 * Math.sqrt(2 / Math.PI));
                if (x != y) {
                    for (; i < n; i += lanes) {
                        FloatVector v = load(x, xo + i);
                        v.mul(v).mul(0.044715f * c2).add(c2).mul(v).intoArray(y, yo + i);
                    }
                    VectorMath.timesSigmoid(x, xo, y, yo, y, yo, n);
                } else {
                    for (; i < n; i += lanes) {
                        FloatVector v = load(x, xo + i);
                        FloatVector twoU = v.mul(v).mul(0.044715f * c2).add(c2).mul(v);
                        VectorMath.timesSigmoid(v, twoU).intoArray(y, yo + i);
                    }
                }
            }
            default -> throw new IllegalStateException("unary: " + op + " has no vector form");
        }
    }

    /** Unit-stride a; b unit-stride ({@code sb == 1}) or a broadcast scalar ({@code sb == 0}). */
    private static void binaryF32(BinaryOp op, float[] a, int ao, float[] b, int bo, int sb, float[] y, int yo, int n) {
        int i = 0;
        int upper = Simd.loopBound(n);
        int lanes = S.length();
        if (sb == 0) {
            float s = b[bo];
            switch (op) {
                case ADD -> { for (; i < upper; i += lanes) load(a, ao + i).add(s).intoArray(y, yo + i); }
                case SUB -> { for (; i < upper; i += lanes) load(a, ao + i).sub(s).intoArray(y, yo + i); }
                case MUL -> { for (; i < upper; i += lanes) load(a, ao + i).mul(s).intoArray(y, yo + i); }
                case DIV -> { for (; i < upper; i += lanes) load(a, ao + i).div(s).intoArray(y, yo + i); }
                case MAXIMUM -> { for (; i < upper; i += lanes) load(a, ao + i).max(s).intoArray(y, yo + i); }
                case MINIMUM -> { for (; i < upper; i += lanes) load(a, ao + i).min(s).intoArray(y, yo + i); }
                default -> { }
            }
            for (; i < n; i++) {
                y[yo + i] = (float) op.apply(a[ao + i], s);
            }
            return;
        }
        switch (op) {
            case ADD -> { for (; i < upper; i += lanes) load(a, ao + i).add(load(b, bo + i)).intoArray(y, yo + i); }
            case SUB -> { for (; i < upper; i += lanes) load(a, ao + i).sub(load(b, bo + i)).intoArray(y, yo + i); }
            case MUL -> { for (; i < upper; i += lanes) load(a, ao + i).mul(load(b, bo + i)).intoArray(y, yo + i); }
            case DIV -> { for (; i < upper; i += lanes) load(a, ao + i).div(load(b, bo + i)).intoArray(y, yo + i); }
            case MAXIMUM -> { for (; i < upper; i += lanes) load(a, ao + i).max(load(b, bo + i)).intoArray(y, yo + i); }
            case MINIMUM -> { for (; i < upper; i += lanes) load(a, ao + i).min(load(b, bo + i)).intoArray(y, yo + i); }
            default -> { }
        }
        for (; i < n; i++) {
            y[yo + i] = (float) op.apply(a[ao + i], b[bo + i]);
        }
    }

    private static FloatVector load(float[] a, int offset) {
        return FloatVector.fromArray(S, a, offset);
    }
}
