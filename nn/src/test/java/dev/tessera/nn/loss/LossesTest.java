package dev.tessera.nn.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Losses against double references (log-sum-exp by hand), gradients by central differences. */
class LossesTest {

    /** Random logits (rows, C) or (B, T, C) and targets with some ignored, from one seed. */
    record Case(Tensor logits, Tensor targets, int ignore, double smoothing) {
        static Case draw(long seed, DType dtype) {
            Generator g = new Generator(seed);
            int c = 1 + (int) g.nextLong(7);
            boolean threeD = g.nextDouble() < 0.5;
            int[] rows = threeD ? new int[] {1 + (int) g.nextLong(3), 1 + (int) g.nextLong(4)} : new int[] {1 + (int) g.nextLong(6)};
            int m = threeD ? rows[0] * rows[1] : rows[0];
            int ignore = g.nextDouble() < 0.5 ? -100 : (int) g.nextLong(c);
            long[] t = new long[m];
            boolean anyKept = false;
            for (int i = 0; i < m; i++) {
                t[i] = g.nextDouble() < 0.25 ? ignore : g.nextLong(c);
                anyKept |= t[i] != ignore;
            }
            if (!anyKept) {
                t[0] = ignore == 0 ? c - 1 : 0;
                if (t[0] == ignore) {
                    ignore = -100;
                }
            }
            int[] shape = threeD ? new int[] {rows[0], rows[1], c} : new int[] {rows[0], c};
            Tensor logits = Tensor.randn(g, dtype, shape).mul(3);
            double smoothing = g.nextDouble() < 0.4 ? 0 : g.nextDouble();
            return new Case(logits, Tensor.of(t, rows), ignore, smoothing);
        }

        double reference() {
            double[] z = logits.toDoubleArray();
            long[] t = targets.toLongArray();
            int c = logits.size(-1);
            double total = 0;
            int count = 0;
            for (int r = 0; r < t.length; r++) {
                if (t[r] == ignore) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    max = Math.max(max, z[r * c + j]);
                }
                double s = 0;
                for (int j = 0; j < c; j++) {
                    s += Math.exp(z[r * c + j] - max);
                }
                double lse = max + Math.log(s);
                double nll = lse - z[r * c + (int) t[r]];
                double uniform = 0;
                for (int j = 0; j < c; j++) {
                    uniform += (lse - z[r * c + j]) / c;
                }
                total += (1 - smoothing) * nll + smoothing * uniform;
                count++;
            }
            return total / count;
        }
    }

    @Property(tries = 150)
    void crossEntropyMatchesReferenceAndComposite(@ForAll long seed) {
        Case k = Case.draw(seed, DType.F32);
        double ref = k.reference();
        Variable a = Variable.of(k.logits().copy(), true);
        Variable b = Variable.of(k.logits().copy(), true);
        Variable fused = Losses.crossEntropyFused(a, k.targets(), k.ignore(), k.smoothing());
        Variable composite = Losses.crossEntropy(b, k.targets(), k.ignore(), k.smoothing());
        assertEquals(0, fused.rank());
        assertEquals(ref, fused.item(), 1e-5 * Math.max(1, Math.abs(ref)));
        assertEquals(ref, composite.item(), 1e-5 * Math.max(1, Math.abs(ref)));
        fused.backward();
        composite.backward();
        assertArrayEquals(b.grad().toFloatArray(), a.grad().toFloatArray(), 1e-6f);
    }

    @Property(tries = 40)
    void crossEntropyGradientsPassGradCheck(@ForAll long seed) {
        Case k = Case.draw(seed, DType.F64);
        GradCheck.check(v -> Losses.crossEntropy(v[0], k.targets(), k.ignore(), k.smoothing()), k.logits());
        GradCheck.check(v -> Losses.crossEntropyFused(v[0], k.targets(), k.ignore(), k.smoothing()), k.logits());
        double tol = 1e-12 * Math.max(1, Math.abs(k.reference()));
        assertEquals(k.reference(), Losses.crossEntropy(Variable.constant(k.logits()), k.targets(), k.ignore(), k.smoothing()).item(), tol);
        assertEquals(k.reference(), Losses.crossEntropyFused(Variable.constant(k.logits()), k.targets(), k.ignore(), k.smoothing()).item(), tol);
    }

    @Test
    void crossEntropyKnownValuesAndErrors() {
        // uniform logits: loss = log C whatever the target and smoothing
        Variable z = Variable.of(Tensor.zeros(DType.F32, 2, 4), true);
        Tensor t = Tensor.of(new long[] {1, 3}, 2);
        assertEquals(Math.log(4), Losses.crossEntropy(z, t).item(), 1e-6);
        assertEquals(Math.log(4), Losses.crossEntropy(z, t, -100, 0.3).item(), 1e-6);
        assertTrue(Double.isNaN(Losses.crossEntropy(z, Tensor.of(new long[] {-100, -100}, 2)).item()), "all ignored gives NaN");
        assertTrue(Double.isNaN(Losses.crossEntropyFused(z, Tensor.of(new long[] {-100, -100}, 2), -100, 0).item()));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropyFused(z, Tensor.of(new long[] {1, 4}, 2), -100, 0));
        var range = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, Tensor.of(new long[] {1, 4}, 2)));
        assertEquals("crossEntropy: target 4 at flat position 1 is outside [0, 4) and is not the ignore index -100", range.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, Tensor.of(new long[] {1, 2, 3}, 3)));
        assertEquals("crossEntropy: targets shape [3] does not match logits shape [2, 4] (expected [2])", shape.getMessage());
        var dtype = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, Tensor.of(new float[] {1, 2}, 2)));
        assertEquals("crossEntropy: targets must be I64 (or I32) class ids, got F32", dtype.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(z, t, -100, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(Variable.constant(Tensor.zeros(DType.F32, 4)), t));
    }

    /** Classes in the last dimension, any leading shape: (C) with a 0-d target, and (2, 3, 2, C) equal to its flattened (12, C). */
    @Test
    void crossEntropyTakesAnyLeadingShape() {
        Generator g = new Generator(7);
        Tensor logits = Tensor.randn(g, DType.F64, 2, 3, 2, 5);
        Tensor targets = Tensor.randint(g, 0, 5, DType.I64, 2, 3, 2);
        double flat = Losses.crossEntropy(Variable.constant(logits.reshape(12, 5)), targets.reshape(12)).item();
        assertEquals(flat, Losses.crossEntropy(Variable.constant(logits), targets).item(), 1e-12);
        assertEquals(flat, Losses.crossEntropyFused(Variable.constant(logits), targets, -100, 0).item(), 1e-12);
        Variable none = Losses.crossEntropy(Variable.constant(logits), targets, -100, 0, Losses.Reduction.NONE);
        assertArrayEquals(new int[] {2, 3, 2}, none.shape());
        GradCheck.check(v -> Losses.crossEntropy(v[0], targets), logits);

        Tensor one = Tensor.of(new double[] {0.5, -1, 2}, 3);
        double expected = -(-1 - Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(2)));
        assertEquals(expected, Losses.crossEntropy(Variable.constant(one), Tensor.of(new long[] {1})).item(), 1e-12, "(C) logits, 0-d target");
        var zeroD = assertThrows(IllegalArgumentException.class, () -> Losses.crossEntropy(Variable.constant(Tensor.scalar(1.0)), Tensor.of(new long[] {0})));
        assertEquals("crossEntropy: logits must have a class dimension (..., C), got a 0-d tensor", zeroD.getMessage());
    }

    @Property(tries = 50)
    void zLossMatchesReference(@ForAll long seed) {
        Generator g = new Generator(seed);
        int[] shape = {1 + (int) g.nextLong(3), 1 + (int) g.nextLong(4), 1 + (int) g.nextLong(6)};
        Tensor logits = Tensor.randn(g, DType.F64, shape).mul(4);
        double coeff = g.nextDouble() < 0.5 ? 1e-4 : g.nextDouble();
        double[] z = logits.toDoubleArray();
        int c = shape[2];
        int rows = z.length / c;
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, z[r * c + j]);
            }
            double s = 0;
            for (int j = 0; j < c; j++) {
                s += Math.exp(z[r * c + j] - max);
            }
            double lse = max + Math.log(s);
            sum += lse * lse;
        }
        double ref = coeff * sum / rows;
        assertEquals(ref, Losses.zLoss(Variable.constant(logits), coeff).item(), 1e-12 * Math.max(1, ref));
        GradCheck.check(v -> Losses.zLoss(v[0], coeff), logits);
    }

    @Property(tries = 50)
    void mseMatchesReference(@ForAll long seed) {
        Generator g = new Generator(seed);
        int[] shape = {1 + (int) g.nextLong(4), 1 + (int) g.nextLong(5)};
        Tensor a = Tensor.randn(g, DType.F64, shape);
        Tensor b = Tensor.randn(g, DType.F64, shape);
        double[] x = a.toDoubleArray();
        double[] y = b.toDoubleArray();
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += (x[i] - y[i]) * (x[i] - y[i]);
        }
        assertEquals(sum / x.length, Losses.mse(Variable.constant(a), Variable.constant(b)).item(), 1e-12);
        GradCheck.check(v -> Losses.mse(v[0], v[1]), a, b);
    }

    @Test
    void mseErrors() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Losses.mse(Variable.constant(Tensor.zeros(DType.F32, 2, 3)), Variable.constant(Tensor.zeros(DType.F32, 3))));
        assertEquals("mse: shapes [2, 3] and [3] differ", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Losses.mse(Variable.constant(Tensor.zeros(DType.F32, 3)), Variable.constant(Tensor.zeros(DType.F64, 3))));
    }

    /** The fused or the composite cross-entropy, as one interface for the tests below. */
    interface CrossEntropy {
        Variable apply(Variable logits, Tensor targets, int ignoreIndex, double smoothing);
    }

    /**
     * Log-probabilities must be (x − max) − log Σ exp(x − max): x − (max + log Σ…) loses the log
     * term when max is large (in F32 it rounds away entirely at 3e38). Expected values are
     * PyTorch's (1.3133 and 0.6931), computed here in double; F32 logits, incl. ignore index and
     * label smoothing.
     */
    static void assertStableAtHugeLogits(String which, CrossEntropy ce) {
        double e = Math.exp(-1);
        double p0 = 1 / (1 + e);
        double nll1 = 1 + Math.log1p(e); // target 1 of [1e4, 1e4 − 1]
        double nll0 = Math.log1p(e);
        double eps = 0.1;
        assertCrossEntropy(which, ce, new double[][] {{1e4, 1e4 - 1}}, new long[] {1}, 0, nll1, new double[] {p0, -p0});
        assertCrossEntropy(which, ce, new double[][] {{3e38, 3e38, 0}}, new long[] {0}, 0, Math.log(2), new double[] {-0.5, 0.5, 0});
        assertCrossEntropy(which, ce, new double[][] {{3e38, 3e38, 0}, {1, 2, 3}}, new long[] {0, Losses.IGNORE_INDEX}, 0, Math.log(2),
                new double[] {-0.5, 0.5, 0, 0, 0, 0});
        assertCrossEntropy(which, ce, new double[][] {{1e4, 1e4 - 1}}, new long[] {1}, eps, (1 - eps) * nll1 + eps * (nll0 + nll1) / 2,
                new double[] {p0 - eps / 2, -p0 + eps / 2});
    }

    static void assertCrossEntropy(String which, CrossEntropy ce, double[][] rows, long[] targets, double smoothing, double loss,
            double[] grad) {
        Tensor logits = Tensor.of(java.util.Arrays.stream(rows).flatMapToDouble(java.util.Arrays::stream).toArray())
                .reshape(rows.length, rows[0].length).to(DType.F32);
        Variable x = Variable.of(logits, true);
        Variable l = ce.apply(x, Tensor.of(targets, targets.length), Losses.IGNORE_INDEX, smoothing);
        assertEquals(loss, l.item(), 2e-6 * Math.abs(loss), which + " loss");
        l.backward();
        assertArrayEquals(grad, x.grad().toDoubleArray(), 1e-6, which + " gradient");
    }

    @Test
    void fusedCrossEntropyKeepsTheLogSumTermForHugeLogits() {
        assertStableAtHugeLogits("fused", Losses::crossEntropyFused);
    }

    /** The composite's log-probabilities come from Tensor.logSoftmax (tensor's (x − max) − lse fix). */
    @Test
    void compositeCrossEntropyKeepsTheLogSumTermForHugeLogits() {
        assertStableAtHugeLogits("composite", Losses::crossEntropy);
    }

    @Test
    void zLossGradientIsTheSoftmaxOfHugeLogits() {
        Variable x = Variable.of(Tensor.of(new double[] {1e4, 1e4 - 1}).reshape(1, 2).to(DType.F32), true);
        Variable z = Losses.zLoss(x, 1e-4);
        double lse = 1e4 + Math.log1p(Math.exp(-1));
        assertEquals(1e-4 * lse * lse, z.item(), 1e-6 * z.item());
        z.backward();
        double p0 = 1 / (1 + Math.exp(-1));
        double[] expected = {2e-4 * lse * p0, 2e-4 * lse * (1 - p0)};
        assertArrayEquals(expected, x.grad().toDoubleArray(), 1e-6 * expected[0]);
    }
}
