package dev.tessera.nn.optim;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.Simd;
import java.util.List;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adam (Kingma &amp; Ba 2015, "Adam: A Method for Stochastic Optimization"), as torch.optim.Adam
 * with its coupled L2 weight decay. At step t, with learning rate γ, weight decay λ:
 *
 * <pre>
 *   g ← g + λ·p
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − (γ / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
 * </pre>
 *
 * State: {@code exp_avg} (m) and {@code exp_avg_sq} (v). For decoupled weight decay use
 * {@link AdamW}.
 */
public class Adam extends Optimizer {
    private final boolean decoupled;

    public Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this("Adam", groups, lr, beta1, beta2, eps, weightDecay, false);
    }

    Adam(String name, List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(name, groups, lr, weightDecay);
        check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        check(eps >= 0 && eps < Double.POSITIVE_INFINITY, "eps must be finite and >= 0, got " + eps);
        this.decoupled = decoupled;
        defineHyper("beta1", beta1);
        defineHyper("beta2", beta2);
        defineHyper("eps", eps);
    }

    @Override
    protected final List<String> stateNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected final void initState(ParamGroup group, Variable p, ParamState state) {
        state.tensors.put("exp_avg", zerosLike(p));
        state.tensors.put("exp_avg_sq", zerosLike(p));
    }

    @Override
    final void update(ParamGroup group, ParamState state, Buf p, Buf g, int from, int to) {
        double lr = group.lr();
        double wd = group.weightDecay();
        double b1 = hp("beta1");
        double b2 = hp("beta2");
        double eps = hp("eps");
        long t = state.step();
        double stepSize = lr / (1 - Math.pow(b1, t));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
        double shrink = decoupled ? 1 - lr * wd : 1;
        double l2 = decoupled ? 0 : wd;
        Buf m = state.buf("exp_avg");
        Buf v = state.buf("exp_avg_sq");
        int i = from;
        if (Simd.ENABLED && p instanceof Buf.F32 pf && g instanceof Buf.F32 gf && m instanceof Buf.F32 mf && v instanceof Buf.F32 vf) {
            i = updateF32Vectors(pf, gf, mf, vf, from, to, b1, b2, eps, stepSize, bc2Sqrt, shrink, l2);
        }
        for (; i < to; i++) {
            double pi = p.get(i) * shrink;
            double gi = g.get(i) + l2 * pi;
            m.set(i, b1 * m.get(i) + (1 - b1) * gi);
            v.set(i, b2 * v.get(i) + (1 - b2) * gi * gi);
            double denom = Math.sqrt(v.get(i)) / bc2Sqrt + eps;
            p.set(i, pi - stepSize * m.get(i) / denom);
        }
    }

    /** Floats as many as {@link Simd#F64} has double lanes: the loads and stores of {@link #updateF32Vectors}. */
    private static final VectorSpecies<Float> FLOAT_PER_DOUBLE_LANE = VectorSpecies.of(float.class,
            VectorShape.forBitSize(Simd.F64.vectorBitSize() / 2));

    /**
     * The loop above for F32 buffers in whole vectors, each float lane widened to a double lane: the same
     * double operations lane by lane (IEEE rounds each vector lane as it rounds a scalar) and the same
     * roundings (m and v stored as floats and read back rounded), so the same bits. Returns where it
     * stopped; the loop above does the rest. (The optimizer was ~3% of a tiny step, most of it in scalar
     * double square roots and divisions.)
     */
    private static int updateF32Vectors(Buf.F32 p, Buf.F32 g, Buf.F32 m, Buf.F32 v, int from, int to, double b1, double b2,
            double eps, double stepSize, double bc2Sqrt, double shrink, double l2) {
        float[] pa = p.a;
        float[] ga = g.a;
        float[] ma = m.a;
        float[] va = v.a;
        int po = p.off;
        int go = g.off;
        int mo = m.off;
        int vo = v.off;
        VectorSpecies<Double> ds = Simd.F64;
        VectorSpecies<Float> fs = FLOAT_PER_DOUBLE_LANE;
        int lanes = ds.length();
        int i = from;
        for (; i + lanes <= to; i += lanes) {
            DoubleVector pi = (DoubleVector) FloatVector.fromArray(fs, pa, po + i).convertShape(VectorOperators.F2D, ds, 0);
            DoubleVector gi = (DoubleVector) FloatVector.fromArray(fs, ga, go + i).convertShape(VectorOperators.F2D, ds, 0);
            DoubleVector m0 = (DoubleVector) FloatVector.fromArray(fs, ma, mo + i).convertShape(VectorOperators.F2D, ds, 0);
            DoubleVector v0 = (DoubleVector) FloatVector.fromArray(fs, va, vo + i).convertShape(VectorOperators.F2D, ds, 0);
            pi = pi.mul(shrink);
            gi = gi.add(pi.mul(l2));
            FloatVector mi = (FloatVector) m0.mul(b1).add(gi.mul(1 - b1)).convertShape(VectorOperators.D2F, fs, 0);
            FloatVector vi = (FloatVector) v0.mul(b2).add(gi.mul(1 - b2).mul(gi)).convertShape(VectorOperators.D2F, fs, 0);
            mi.intoArray(ma, mo + i);
            vi.intoArray(va, vo + i);
            DoubleVector denom = ((DoubleVector) vi.convertShape(VectorOperators.F2D, ds, 0)).sqrt().div(bc2Sqrt).add(eps);
            DoubleVector step = ((DoubleVector) mi.convertShape(VectorOperators.F2D, ds, 0)).mul(stepSize).div(denom);
            ((FloatVector) pi.sub(step).convertShape(VectorOperators.D2F, fs, 0)).intoArray(pa, po + i);
        }
        return i;
    }
}
