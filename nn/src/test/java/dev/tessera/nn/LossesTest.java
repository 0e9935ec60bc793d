package dev.tessera.nn;

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
}
