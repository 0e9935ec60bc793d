package dev.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.loss.Losses;
import dev.tessera.nn.loss.Losses.Reduction;
import dev.tessera.nn.norm.LayerNorm;
import dev.tessera.nn.norm.RMSNorm;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import org.junit.jupiter.api.Test;

class FunctionalTest {
    private static Variable randn(long seed, int... shape) {
        return Variable.constant(Tensor.randn(new Generator(seed), DType.F64, shape));
    }

    /** The functions equal their modules given the modules' own weights. */
    @Test
    void normsEqualTheirModules() {
        Variable x = randn(1, 2, 3, 8);
        LayerNorm ln = new LayerNorm(8, 1e-5, true, true, DType.F64);
        ln.loadStateDict(java.util.Map.of("weight", Tensor.randn(new Generator(2), DType.F64, 8), "bias",
                Tensor.randn(new Generator(3), DType.F64, 8)), true);
        assertArrayEquals(ln.forward(x).data().toDoubleArray(), Functional.layerNorm(x, ln.weight(), ln.bias(), 1e-5).data().toDoubleArray(), 0);
        RMSNorm rms = new RMSNorm(8, 1e-6, true, DType.F64);
        rms.loadStateDict(java.util.Map.of("weight", Tensor.randn(new Generator(5), DType.F64, 8)), true);
        assertArrayEquals(rms.forward(x).data().toDoubleArray(), Functional.rmsNorm(x, rms.weight(), 1e-6).data().toDoubleArray(), 0);
        // without weights: zero mean, unit variance per row (layer norm), unit mean square (RMS norm)
        double[] y = Functional.layerNorm(x, null, null, 0).data().toDoubleArray();
        double mean = 0;
        double square = 0;
        for (int i = 0; i < 8; i++) {
            mean += y[i] / 8;
            square += y[i] * y[i] / 8;
        }
        assertEquals(0, mean, 1e-12);
        assertEquals(1, square, 1e-12);
    }

    /** none → per-target losses (0 where ignored); sum and mean fold exactly those; the default is mean. */
    @Test
    void crossEntropyAndMseReductions() {
        Variable logits = randn(4, 2, 3, 5);
        Tensor targets = Tensor.of(new long[] {1, Losses.IGNORE_INDEX, 4, 0, 2, Losses.IGNORE_INDEX}, 2, 3);
        Variable none = Functional.crossEntropy(logits, targets, Reduction.NONE);
        assertArrayEquals(new int[] {2, 3}, none.shape());
        double[] perTarget = none.data().toDoubleArray();
        assertEquals(0, perTarget[1], 0);
        assertEquals(0, perTarget[5], 0);
        double total = 0;
        for (double l : perTarget) {
            total += l;
        }
        assertEquals(total, Functional.crossEntropy(logits, targets, Reduction.SUM).item(), 1e-12);
        assertEquals(total / 4, Functional.crossEntropy(logits, targets, Reduction.MEAN).item(), 1e-12);
        assertEquals(total / 4, Losses.crossEntropy(logits, targets).item(), 1e-12);
        double[] l = logits.data().toDoubleArray();
        double z = 0;
        for (int c = 0; c < 5; c++) {
            z += Math.exp(l[c]);
        }
        assertEquals(Math.log(z) - l[1], perTarget[0], 1e-12, "−log softmax of the target class");
        Variable a = randn(5, 4);
        Variable b = randn(6, 4);
        double[] d = Functional.mse(a, b, Reduction.NONE).data().toDoubleArray();
        double sum = 0;
        for (double e : d) {
            sum += e;
        }
        assertEquals(sum, Functional.mse(a, b, Reduction.SUM).item(), 1e-12);
        assertEquals(sum / 4, Functional.mse(a, b, Reduction.MEAN).item(), 1e-12);
    }

    @Test
    void attentionIsSoftmaxOfScaledScores() {
        Variable q = randn(7, 1, 1, 1, 2);
        Variable k = randn(8, 1, 1, 3, 2);
        Variable v = randn(9, 1, 1, 3, 1);
        double[] qa = q.data().toDoubleArray(), ka = k.data().toDoubleArray(), va = v.data().toDoubleArray();
        double num = 0;
        double den = 0;
        for (int j = 0; j < 3; j++) {
            double w = Math.exp((qa[0] * ka[2 * j] + qa[1] * ka[2 * j + 1]) / Math.sqrt(2));
            num += w * va[j];
            den += w;
        }
        assertEquals(num / den, Functional.scaledDotProductAttention(q, k, v, AttentionMask.NONE).item(), 1e-12);
    }
}
