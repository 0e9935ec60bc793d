package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Each optimizer against the published update rule, written here in plain double loops. Every case
 * has three parameters (a contiguous F32 matrix, an F64 vector, a transposed F32 view) in two
 * groups with their own learning rate and weight decay, and some steps leave a gradient null.
 */
class OptimizerReferenceTest {
    static final double TOL = 1e-5;

    /** One parameter's update rule on doubles; {@code t} is this parameter's own step count. */
    interface Rule {
        void step(int k, long t, double[] p, double[] g, double lr, double wd);
    }

    /** Random parameters, groups, hyperparameters and gradients from one seed. */
    static final class Case {
        final Generator gen;
        final List<Variable> params = new ArrayList<>();
        final List<double[]> ref = new ArrayList<>();
        final double[] lr = new double[2];
        final double[] wd = new double[2];
        final int steps;
        final long[] counts = new long[3];

        Case(long seed) {
            gen = new Generator(seed);
            int a = 1 + (int) gen.nextLong(5);
            int b = 1 + (int) gen.nextLong(6);
            params.add(Variable.of(Tensor.randn(gen, DType.F32, a, b), true));
            params.add(Variable.of(Tensor.randn(gen, DType.F64, 1 + (int) gen.nextLong(9)), true));
            params.add(Variable.of(Tensor.randn(gen, DType.F32, b, a + 1).mT(), true));
            for (Variable p : params) {
                ref.add(p.data().toDoubleArray());
            }
            for (int i = 0; i < 2; i++) {
                lr[i] = Math.exp(Math.log(1e-4) + gen.nextDouble() * Math.log(1e3)); // 1e-4 .. 1e-1
                wd[i] = gen.nextDouble() < 0.3 ? 0 : gen.nextDouble() * 0.2;
            }
            steps = 1 + (int) gen.nextLong(6);
        }

        double uniform(double lo, double hi) {
            return lo + (hi - lo) * gen.nextDouble();
        }

        List<ParamGroup> groups() {
            return List.of(new ParamGroup(List.of(params.get(0), params.get(2)), lr[0], wd[0]),
                    new ParamGroup(List.of(params.get(1)), lr[1], wd[1]));
        }

        int stateIndex(int i) {
            return i == 0 ? 0 : i == 2 ? 1 : 2;
        }

        int groupOf(int i) {
            return i == 1 ? 1 : 0;
        }

        /** Sets fresh random gradients (some null) and returns them as doubles (null where null). */
        double[][] drawGradients() {
            double[][] gs = new double[3][];
            for (int i = 0; i < 3; i++) {
                Variable p = params.get(i);
                if (gen.nextDouble() < 0.2) {
                    p.zeroGrad();
                } else {
                    Tensor g = Tensor.randn(gen, p.dtype(), p.shape());
                    p.setGrad(g);
                    gs[i] = g.toDoubleArray();
                }
            }
            return gs;
        }

        /** Steps {@code opt} and the reference rules side by side, then compares every parameter. */
        void run(Optimizer opt, Rule[] rules) {
            for (int s = 0; s < steps; s++) {
                double[][] gs = drawGradients();
                opt.step();
                for (int i = 0; i < 3; i++) {
                    if (gs[i] != null) {
                        counts[i]++;
                        rules[i].step(s, counts[i], ref.get(i), gs[i], lr[groupOf(i)], wd[groupOf(i)]);
                    }
                }
            }
            for (int i = 0; i < 3; i++) {
                assertClose(ref.get(i), params.get(i).data().toDoubleArray(), "param " + i);
            }
        }
    }

    static void assertClose(double[] expected, double[] actual, String what) {
        assertTrue(expected.length == actual.length, what + ": length");
        for (int j = 0; j < expected.length; j++) {
            double diff = Math.abs(expected[j] - actual[j]);
            if (!(diff <= TOL * Math.max(1, Math.abs(expected[j])))) {
                throw new AssertionError(what + " element " + j + ": expected " + expected[j] + " got " + actual[j]);
            }
        }
    }

    static Rule[] rules(java.util.function.IntFunction<Rule> make) {
        return new Rule[] {make.apply(0), make.apply(1), make.apply(2)};
    }

    @Property(tries = 60)
    void sgdFollowsTorchFormulas(@ForAll long seed) {
        Case c = new Case(seed);
        double mu = c.gen.nextDouble() < 0.25 ? 0 : c.uniform(0, 0.99);
        boolean nesterov = mu > 0 && c.gen.nextDouble() < 0.5;
        double damp = nesterov || c.gen.nextDouble() < 0.5 ? 0 : c.uniform(0, 1);
        SGD opt = new SGD(c.groups(), 0.5, mu, damp, nesterov, 0);
        c.run(opt, rules(i -> {
            double[] buf = new double[c.ref.get(i).length];
            return (k, t, p, g, lr, wd) -> {
                for (int j = 0; j < p.length; j++) {
                    double d = g[j] + wd * p[j];
                    if (mu != 0) {
                        buf[j] = t == 1 ? d : mu * buf[j] + (1 - damp) * d;
                        d = nesterov ? d + mu * buf[j] : buf[j];
                    }
                    p[j] -= lr * d;
                }
            };
        }));
    }

    /** Kingma & Ba Algorithm 1 with PyTorch's ε placement; decoupled selects AdamW. */
    static Rule adamRule(int n, double b1, double b2, double eps, boolean decoupled) {
        double[] m = new double[n];
        double[] v = new double[n];
        return (k, t, p, g, lr, wd) -> {
            for (int j = 0; j < p.length; j++) {
                double gj = g[j];
                if (decoupled) {
                    p[j] -= lr * wd * p[j];
                } else {
                    gj += wd * p[j];
                }
                m[j] = b1 * m[j] + (1 - b1) * gj;
                v[j] = b2 * v[j] + (1 - b2) * gj * gj;
                double mHat = m[j] / (1 - Math.pow(b1, t));
                double vHat = v[j] / (1 - Math.pow(b2, t));
                p[j] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        };
    }

    @Property(tries = 60)
    void adamFollowsKingmaBa(@ForAll long seed) {
        Case c = new Case(seed);
        double b1 = c.uniform(0, 0.99);
        double b2 = c.uniform(0.9, 0.9999);
        double eps = Math.pow(10, -c.uniform(3, 8));
        Adam opt = new Adam(c.groups(), 1, b1, b2, eps, 0);
        c.run(opt, rules(i -> adamRule(c.ref.get(i).length, b1, b2, eps, false)));
    }

    @Property(tries = 60)
    void adamWDecouplesWeightDecay(@ForAll long seed) {
        Case c = new Case(seed);
        double b1 = c.uniform(0, 0.99);
        double b2 = c.uniform(0.9, 0.9999);
        double eps = Math.pow(10, -c.uniform(3, 8));
        AdamW opt = new AdamW(c.groups(), 1, b1, b2, eps, 0);
        c.run(opt, rules(i -> adamRule(c.ref.get(i).length, b1, b2, eps, true)));
    }

    /**
     * F32 parameters take a vector loop (float lanes widened to double lanes) and a scalar tail: both
     * are the update's double arithmetic with m and v rounded to float, bit for bit, at every length.
     */
    @Property(tries = 30)
    void f32AdamUpdateIsTheScalarDoubleLoopBitForBit(@ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 70) int n,
            @ForAll boolean decoupled, @ForAll long seed) {
        Generator gen = new Generator(seed);
        Variable p = Variable.of(Tensor.randn(gen, DType.F32, n), true);
        float[] pr = p.data().toFloatArray();
        float[] mr = new float[n];
        float[] vr = new float[n];
        double lr = 1e-2;
        double wd = 0.1;
        double b1 = 0.9;
        double b2 = 0.95;
        double eps = 1e-8;
        Optimizer opt = decoupled ? new AdamW(ParamGroup.all(List.of(p)), lr, b1, b2, eps, wd)
                : new Adam(ParamGroup.all(List.of(p)), lr, b1, b2, eps, wd);
        for (int t = 1; t <= 3; t++) {
            float[] g = Tensor.randn(gen, DType.F32, n).toFloatArray();
            p.setGrad(Tensor.of(g, n));
            opt.step();
            double stepSize = lr / (1 - Math.pow(b1, t));
            double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
            for (int i = 0; i < n; i++) {
                double pi = pr[i] * (decoupled ? 1 - lr * wd : 1);
                double gi = g[i] + (decoupled ? 0 : wd) * pi;
                mr[i] = (float) (b1 * mr[i] + (1 - b1) * gi);
                vr[i] = (float) (b2 * vr[i] + (1 - b2) * gi * gi);
                pr[i] = (float) (pi - stepSize * mr[i] / (Math.sqrt(vr[i]) / bc2Sqrt + eps));
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(pr, p.data().toFloatArray(), "step " + t);
        }
    }

    /** A parameter of several update chunks (with a tail), so the parallel split is exercised. */
    @org.junit.jupiter.api.Test
    void largeParameterSpansSeveralChunks() {
        Generator gen = new Generator(11);
        int n = 3 * (1 << 15) + 17;
        Variable p = Variable.of(Tensor.randn(gen, DType.F32, n), true);
        double[] ref = p.data().toDoubleArray();
        AdamW opt = new AdamW(ParamGroup.all(List.of(p)), 1e-2, 0.9, 0.99, 1e-8, 0.1);
        Rule rule = adamRule(n, 0.9, 0.99, 1e-8, true);
        for (int t = 1; t <= 3; t++) {
            Tensor g = Tensor.randn(gen, DType.F32, n);
            p.setGrad(g);
            opt.step();
            rule.step(t - 1, t, ref, g.toDoubleArray(), 1e-2, 0.1);
        }
        assertClose(ref, p.data().toDoubleArray(), "large");
    }

    @Property(tries = 60)
    void lionFollowsChenEtAl(@ForAll long seed) {
        Case c = new Case(seed);
        double b1 = c.uniform(0.5, 0.99);
        double b2 = c.uniform(0.9, 0.999);
        Lion opt = new Lion(c.groups(), 1, b1, b2, 0);
        c.run(opt, rules(i -> {
            double[] m = new double[c.ref.get(i).length];
            return (k, t, p, g, lr, wd) -> {
                for (int j = 0; j < p.length; j++) {
                    double u = b1 * m[j] + (1 - b1) * g[j];
                    p[j] -= lr * (Math.signum(u) + wd * p[j]);
                    m[j] = b2 * m[j] + (1 - b2) * g[j];
                }
            };
        }));
    }

    /**
     * Schedule-Free AdamW from the paper's Algorithm 1, keeping x, y and z explicitly; checks y
     * (the training parameters), z (the state) and x (the parameters after eval()).
     */
    @Property(tries = 60)
    void scheduleFreeFollowsThePaper(@ForAll long seed) {
        Case c = new Case(seed);
        double b1 = c.uniform(0.5, 0.95);
        double b2 = c.uniform(0.9, 0.9999);
        double eps = Math.pow(10, -c.uniform(4, 8));
        long warmup = c.gen.nextLong(5);
        double r = c.gen.nextDouble() < 0.5 ? 0 : c.uniform(0, 2);
        double q = c.gen.nextDouble() < 0.5 ? 2 : c.uniform(0, 3);
        ScheduleFreeAdamW opt = new ScheduleFreeAdamW(c.groups(), 1, b1, b2, eps, 0, warmup, r, q);
        int np = 3;
        double[][] x = new double[np][];
        double[][] z = new double[np][];
        double[][] v = new double[np][];
        for (int i = 0; i < np; i++) {
            x[i] = c.ref.get(i).clone();
            z[i] = c.ref.get(i).clone();
            v[i] = new double[x[i].length];
        }
        double[] weightSum = new double[2];
        double[] gammaMax = new double[2];
        for (int s = 0; s < c.steps; s++) {
            double[][] gs = c.drawGradients();
            opt.step();
            long t = s + 1; // the group's step count advances every step
            for (int grp = 0; grp < 2; grp++) {
                double gamma = c.lr[grp] * Math.min(1, warmup == 0 ? 1 : (double) t / warmup) * Math.sqrt(1 - Math.pow(b2, t));
                gammaMax[grp] = Math.max(gammaMax[grp], gamma);
                double w = Math.pow(t, r) * Math.pow(gammaMax[grp], q);
                weightSum[grp] += w;
                double cNext = w / weightSum[grp];
                for (int i = 0; i < np; i++) {
                    if (c.groupOf(i) != grp || gs[i] == null) {
                        continue;
                    }
                    double[] y = c.ref.get(i);
                    for (int j = 0; j < y.length; j++) {
                        double g = gs[i][j];
                        v[i][j] = b2 * v[i][j] + (1 - b2) * g * g;
                        z[i][j] = z[i][j] - gamma * g / (Math.sqrt(v[i][j]) + eps) - gamma * c.wd[grp] * y[j];
                        x[i][j] = (1 - cNext) * x[i][j] + cNext * z[i][j];
                        y[j] = (1 - b1) * z[i][j] + b1 * x[i][j];
                    }
                }
            }
        }
        var state = opt.stateDict();
        for (int i = 0; i < np; i++) {
            assertClose(c.ref.get(i), c.params.get(i).data().toDoubleArray(), "y " + i);
            String key = "state." + c.stateIndex(i) + ".z"; // optimizer numbering: group 0 (p0, p2), then group 1 (p1)
            if (state.containsKey(key)) {
                assertClose(z[i], state.get(key).toDoubleArray(), "z " + i);
            }
        }
        opt.eval();
        for (int i = 0; i < np; i++) {
            assertClose(x[i], c.params.get(i).data().toDoubleArray(), "x " + i);
        }
        opt.train();
        for (int i = 0; i < np; i++) {
            assertClose(c.ref.get(i), c.params.get(i).data().toDoubleArray(), "y after train() " + i);
        }
    }
}
