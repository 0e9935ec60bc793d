package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, tanh and m·σ(z) on float vectors from add, multiply and bit operations only (Cephes'
 * expf and tanhf polynomials). The Vector API's own EXP/TANH call an intrinsic stub once compiled but a
 * different Java fallback while interpreted, so their last bit depends on JIT timing; these give
 * the same bits in every tier, which keeps results reproducible run to run.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = Simd.F32;
    /** One vector's worth of floats per thread: {@link #expShifted}'s partial last vector and its lane sum. */
    private static final ThreadLocal<float[]> LANE_BUFFER = ThreadLocal.withInitial(() -> new float[S.length()]);
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MAX_ARG = 88.72283905206835f;
    private static final float MIN_ARG = -103.972084f;
    /** Bounds within which round(x·log₂e) stays in −126..127, so 2ⁿ is a normal float. */
    private static final float MIN_NORMAL_SCALE_ARG = -87.33654f;
    private static final float MAX_NORMAL_SCALE_ARG = 88.37626f;
    /** 1.5·2²³: adding and subtracting it rounds a float below 2²² to the nearest integer. */
    private static final float ROUNDER = 12582912f;

    private VectorMath() {}

    /*
     * Kernels over arrays. The vector functions below take and return FloatVector and must be
     * inlined into a loop to run as vector instructions; where C2 does not inline them (a caller
     * compiled into a big method hits its inlining budget, or the function was compiled on its own
     * and is "too large" to inline), every call boxes its vectors and runs the Java fallback: JFR
     * found ~40% of a training step's allocation there (SwiGLU 3–5× slower than when inlined). These
     * kernels keep the loop and the math in one small method and pass only arrays across their
     * boundary, so failing to inline one of them costs a call per chunk, not a box per vector. The
     * whole vectors run in a loop of plain loads and stores: a helper taking a nullable tail mask
     * (load/store below) is itself compiled "too big" to inline once its masked branch is, and then
     * boxes every vector it is handed (~130 MB per tiny training step in SwiGLU and softmax); a
     * nullable mask merged in the loop also made C2 emit code that stopped the JVM
     * (macroAssembler_x86 "DEBUG MESSAGE" in a compiled timesSigmoid). The last, partial vector goes
     * through masked loads and stores in an array-to-array call of its own: every element takes the
     * same vector code, so the bits do not depend on where a chunk ends.
     */

    /** a[i..] (lanes outside {@code tail} read as 0). */
    static FloatVector load(float[] a, int i, VectorMask<Float> tail) {
        return tail == null ? FloatVector.fromArray(S, a, i) : FloatVector.fromArray(S, a, i, tail);
    }

    static void store(FloatVector v, float[] a, int i, VectorMask<Float> tail) {
        if (tail == null) {
            v.intoArray(a, i);
        } else {
            v.intoArray(a, i, tail);
        }
    }

    /** The end of the whole vectors in {@code count} elements. */
    static int wholeVectors(int count) {
        return count - count % S.length();
    }

    /**
     * max over {@code a[o..o+count)} in Math.max's order-free semantics (NaN wins, −0 below +0), so
     * any lane split gives the same value; −inf for an empty run. Array in, float out: a caller whose
     * own compiled code keeps this out of line passes no vector, so none is boxed (as a vector loop
     * inside softmax's row routine was, whenever C2 compiled the row without the MAX intrinsic).
     */
    static float maxOf(float[] a, int o, int count) {
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        int upper = Simd.loopBound(count);
        if (upper > 0) {
            FloatVector m = FloatVector.fromArray(S, a, o);
            for (i = S.length(); i < upper; i += S.length()) {
                m = m.max(FloatVector.fromArray(S, a, o + i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < count; i++) {
            max = Math.max(max, a[o + i]);
        }
        return max;
    }

    /** {@code a[o..o+count) *= factor}; array to array, as {@link #maxOf}. */
    static void scaleInPlace(float[] a, int o, int count, float factor) {
        int i = 0;
        for (int upper = Simd.loopBound(count); i < upper; i += S.length()) {
            FloatVector.fromArray(S, a, o + i).mul(factor).intoArray(a, o + i);
        }
        for (; i < count; i++) {
            a[o + i] *= factor;
        }
    }

    /** {@code y = (x − shift) − lse} over the run (log_softmax's last pass); array to array, as {@link #maxOf}. */
    static void minusTwice(float[] x, int xo, float shift, float lse, float[] y, int yo, int count) {
        int i = 0;
        for (int upper = Simd.loopBound(count); i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).sub(shift).sub(lse).intoArray(y, yo + i);
        }
        for (; i < count; i++) {
            y[yo + i] = (x[xo + i] - shift) - lse;
        }
    }

    /**
     * y = e^(x − shift) over {@code count} elements; returns Σ y (vector lanes summed in order, in double).
     * The partial last vector runs the same loop body on a per-thread buffer (padding lanes read shift,
     * e⁰ = 1, and count as 0), and the lanes are summed from that buffer: a separate tail routine called
     * the vector exp, which C2 left out of line with boxed vectors, and summing through
     * {@code toArray} made an array a row (JFR: ~300 MB a tiny training step, softmax's rows).
     */
    static double expShifted(float[] x, int xo, float shift, float[] y, int yo, int count) {
        final int lanes = S.length();
        float[] pad = LANE_BUFFER.get();
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < count; i += lanes) {
            int valid = Math.min(lanes, count - i);
            float[] src = x;
            int so = xo + i;
            float[] dst = y;
            int d = yo + i;
            if (valid < lanes) {
                System.arraycopy(x, so, pad, 0, valid);
                java.util.Arrays.fill(pad, valid, lanes, shift);
                src = pad;
                so = 0;
                dst = pad;
                d = 0;
            }
            FloatVector v = FloatVector.fromArray(S, src, so).sub(shift);
            if (outsideNormalScale(v)) {
                expShiftedRare(src, so, shift, dst, d);
            } else {
                expInRange(v).intoArray(dst, d);
            }
            if (valid < lanes) {
                System.arraycopy(pad, 0, y, yo + i, valid);
                java.util.Arrays.fill(pad, valid, lanes, 0f);
            }
            acc = FloatVector.fromArray(S, dst, d).add(acc); // the loaded vector as receiver: see GemmKernels.put
        }
        acc.intoArray(pad, 0);
        return Simd.sumInOrder(pad, lanes);
    }

    /**
     * a = e^(a − shift) in place over {@code count} elements, a whole number of vectors; returns Σ a
     * as float: lanes accumulated per vector, then {@link Simd#sumLanesInOrder} (the fused attention's
     * row sums). Masked scores are −inf and take the rare path through an array-to-array call, so no
     * vector is boxed on the hot path.
     */
    static float expShiftedInPlace(float[] a, int o, float shift, int count) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < count; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, a, o + i).sub(shift);
            if (outsideNormalScale(v)) {
                expShiftedRare(a, o + i, shift, a, o + i);
                acc = FloatVector.fromArray(S, a, o + i).add(acc);
            } else {
                FloatVector e = expInRange(v);
                e.intoArray(a, o + i);
                acc = e.add(acc);
            }
        }
        return Simd.sumLanesInOrder(acc);
    }

    /**
     * One whole vector of {@link #expShifted} with a lane outside exp's normal-scale range, array to
     * array: when a cold branch calls a function that returns a vector and C2 leaves the call out of
     * line, the merge after the branch boxes the vector on the hot path too (JFR found ~300 MB of
     * boxes per tiny training step in SwiGLU's twin of this loop).
     */
    private static void expShiftedRare(float[] x, int xo, float shift, float[] y, int yo) {
        expFullRange(FloatVector.fromArray(S, x, xo).sub(shift)).intoArray(y, yo);
    }

    /** y = m·σ(z) over {@code count} elements (σ(z) where m is null); y may be m or z. */
    static void timesSigmoid(float[] m, int mo, float[] z, int zo, float[] y, int yo, int count) {
        int upper = wholeVectors(count);
        int i = 0;
        if (m == null) {
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (; i < upper; i += S.length()) {
                FloatVector zv = FloatVector.fromArray(S, z, zo + i);
                FloatVector negAbs = zv.abs().neg();
                if (outsideNormalScale(negAbs)) {
                    timesSigmoidRare(null, 0, z, zo + i, y, yo + i, null);
                } else {
                    timesSigmoidInRange(one, zv, expInRange(negAbs)).intoArray(y, yo + i);
                }
            }
        } else {
            for (; i < upper; i += S.length()) {
                FloatVector zv = FloatVector.fromArray(S, z, zo + i);
                FloatVector negAbs = zv.abs().neg();
                if (outsideNormalScale(negAbs)) {
                    timesSigmoidRare(m, mo + i, z, zo + i, y, yo + i, null);
                } else {
                    timesSigmoidInRange(FloatVector.fromArray(S, m, mo + i), zv, expInRange(negAbs)).intoArray(y, yo + i);
                }
            }
        }
        if (i < count) {
            timesSigmoidRare(m, mo + i, z, zo + i, y, yo + i, S.indexInRange(i, count));
        }
    }

    /**
     * One vector of {@link #timesSigmoid(float[], int, float[], int, float[], int, int)} through the
     * full-range vector form: a whole vector with a lane outside exp's normal-scale range (|z| &gt;
     * 87.3 or NaN), or the last, partial vector (lanes outside {@code tail} read as 0 and are not
     * stored), array to array for the reason {@link #expShiftedRare} gives. Where every lane is in
     * range the full-range form computes what the loop's in-range form does, bit for bit.
     */
    private static void timesSigmoidRare(float[] m, int mo, float[] z, int zo, float[] y, int yo, VectorMask<Float> tail) {
        FloatVector mv = m == null ? FloatVector.broadcast(S, 1f) : load(m, mo, tail);
        store(timesSigmoid(mv, load(z, zo, tail)), y, yo, tail);
    }

    /** Whether a lane of x lies outside [−87.34, 88.38] or is NaN, where 2ⁿ stops being a normal float. */
    private static boolean outsideNormalScale(FloatVector x) {
        // clamping changed a lane exactly when it was out of range, and NaN never equals itself: one compare finds both
        return x.max(MIN_NORMAL_SCALE_ARG).min(MAX_NORMAL_SCALE_ARG).compare(VectorOperators.NE, x).anyTrue();
    }

    /**
     * eˣ within about 1 ulp; +inf above 88.72, 0 below −103.97, NaN stays NaN. Vectors whose lanes
     * all lie in [−87.34, 88.37], where 2ⁿ is a normal float, scale by 2ⁿ in one multiply; any other
     * vector takes {@link #expFullRange}. Multiplying by a power of two is exact unless the result
     * is subnormal, where both paths round the same exact product once, so the bits do not depend
     * on the path.
     */
    static FloatVector exp(FloatVector x) {
        return outsideNormalScale(x) ? expFullRange(x) : expInRange(x);
    }

    /** eˣ for lanes all in [−87.34, 88.38] (see {@link #outsideNormalScale}): one multiply by 2ⁿ, no branch. */
    private static FloatVector expInRange(FloatVector x) {
        FloatVector n = roundedLog2(x);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        return expReduced(x, n).mul(ni.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
    }

    /** n = round(x·log₂e), as a float. */
    private static FloatVector roundedLog2(FloatVector clamped) {
        return clamped.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
    }

    /** e^(x − n·ln2), the reduced argument's polynomial (Cephes expf). */
    private static FloatVector expReduced(FloatVector clamped, FloatVector n) {
        var species = clamped.species();
        FloatVector r = n.fma(FloatVector.broadcast(species, -LN2_HI), clamped); // x − n·ln2, fused: one rounding each
        r = n.fma(FloatVector.broadcast(species, -LN2_LO), r);
        FloatVector r2 = r.mul(r);
        return FloatVector.broadcast(species, 1.9875691500e-4f)
                .fma(r, FloatVector.broadcast(species, 1.3981999507e-3f))
                .fma(r, FloatVector.broadcast(species, 8.3334519073e-3f))
                .fma(r, FloatVector.broadcast(species, 4.1665795894e-2f))
                .fma(r, FloatVector.broadcast(species, 1.6666665459e-1f))
                .fma(r, FloatVector.broadcast(species, 5.0000001201e-1f))
                .fma(r2, r).add(1f);
    }

    /** The rare vectors (masked softmax rows, overflow, NaN): 2ⁿ over n = −150..128, then the special lanes. */
    private static FloatVector expFullRange(FloatVector x) {
        FloatVector clamped = x.max(MIN_ARG).min(MAX_ARG);
        FloatVector n = roundedLog2(clamped);
        FloatVector p = expReduced(clamped, n);
        // 2ⁿ in two halves so both exponents stay in the normal range; the second multiply rounds
        // once into the subnormal range where it must
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        IntVector rest = ni.sub(half);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = rest.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2).blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, MAX_ARG))
                .blend(0f, x.compare(VectorOperators.LT, MIN_ARG)).blend(x, x.compare(VectorOperators.NE, x));
    }

    /** Below this, m·eˣ is taken as m·0: for |m| &lt; 2²⁴ the exact product is under half the least subnormal. */
    private static final float MIN_TIMES_ARG = -120.6f;

    /**
     * m·eˣ for x ≤ 0 with one rounding where the result is subnormal: eˣ alone would already be
     * subnormal there (x &lt; −87.34) and keep few significant bits, which multiplying by a large m
     * would expose (silu(−100) = −100·e⁻¹⁰⁰). The product is formed as ((p·2^⌊n/2⌋)·m)·2^⌈n/2⌉ with
     * p = e^(x − n·ln2), so every step but the last is a normal float. Lanes with x above 0 are not
     * meaningful; below −120.6 (or −inf) the result is m·0.
     */
    private static FloatVector expTimes(FloatVector x, FloatVector m) {
        FloatVector clamped = x.max(MIN_TIMES_ARG).min(0f);
        FloatVector n = roundedLog2(clamped);
        FloatVector p = expReduced(clamped, n);
        IntVector ni = (IntVector) n.convert(VectorOperators.F2I, 0);
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(m).mul(s2).blend(m.mul(0f), x.compare(VectorOperators.LT, MIN_TIMES_ARG))
                .blend(x, x.compare(VectorOperators.NE, x));
    }

    /**
     * m·σ(z) = m/(1 + e^{−z}) without overflow or cancellation: with e = e^{−|z|} ∈ [0, 1] it is
     * m/(1 + e) for z ≥ 0 and m·e/(1 + e) for z &lt; 0 (where e^{−z} would overflow), m·e formed by
     * {@link #expTimes} where e is subnormal. σ is m = 1, SiLU m = z = x, tanh-GELU
     * ½x(1 + tanh u) = x·σ(2u). Within a few ulp of the double-precision twin, plus the condition of
     * σ(z) (|z|·ε relative) for a z that was itself rounded.
     */
    static FloatVector timesSigmoid(FloatVector m, FloatVector z) {
        FloatVector e = exp(z.abs().neg());
        VectorMask<Float> tiny = z.compare(VectorOperators.LT, MIN_NORMAL_SCALE_ARG);
        if (tiny.anyTrue()) {
            VectorMask<Float> negative = z.compare(VectorOperators.LT, 0f);
            return m.blend(m.mul(e), negative).blend(expTimes(z, m), tiny).div(e.add(1f));
        }
        return timesSigmoidInRange(m, z, e);
    }

    /** m·σ(z) given e = e^{−|z|} for z with no lane below −87.34. */
    private static FloatVector timesSigmoidInRange(FloatVector m, FloatVector z, FloatVector e) {
        return m.blend(m.mul(e), z.compare(VectorOperators.LT, 0f)).div(e.add(1f));
    }

    /** tanh within a few ulp: odd polynomial below |x| = 0.625, 1 − 2/(e^{2|x|} + 1) above; tanh(±0) = ±0. */
    static FloatVector tanh(FloatVector x) {
        var species = x.species();
        FloatVector ax = x.abs();
        FloatVector z = x.mul(x);
        FloatVector poly = FloatVector.broadcast(species, -5.70498872745e-3f)
                .fma(z, FloatVector.broadcast(species, 2.06390887954e-2f))
                .fma(z, FloatVector.broadcast(species, -5.37397155531e-2f))
                .fma(z, FloatVector.broadcast(species, 1.33314422036e-1f))
                .fma(z, FloatVector.broadcast(species, -3.33332819422e-1f))
                .mul(z).fma(x, x);
        FloatVector big = FloatVector.broadcast(species, 1f).sub(FloatVector.broadcast(species, 2f)
                .div(exp(ax.mul(2f)).add(1f)));
        big = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f));
        // x itself for NaN and ±0: x + x·(z·p) gives +0 for x = −0, and tanh(−0) is −0
        VectorMask<Float> itself = x.test(VectorOperators.IS_NAN).or(x.compare(VectorOperators.EQ, 0f));
        return poly.blend(big, ax.compare(VectorOperators.GE, 0.625f)).blend(x, itself);
    }
}
