package dev.tessera.nn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** Global-norm clipping against a double reference norm, as torch.nn.utils.clip_grad_norm_. */
class GradClipTest {

    @Property(tries = 100)
    void clipsToMaxNormAndReturnsTheNorm(@ForAll long seed) {
        Generator g = new Generator(seed);
        List<Variable> ps = new ArrayList<>();
        List<double[]> grads = new ArrayList<>();
        int n = 1 + (int) g.nextLong(4);
        for (int i = 0; i < n; i++) {
            DType dt = g.nextDouble() < 0.5 ? DType.F32 : DType.F64;
            Variable p = Variable.of(Tensor.zeros(dt, 1 + (int) g.nextLong(7), 1 + (int) g.nextLong(3)), true);
            ps.add(p);
            if (g.nextDouble() < 0.2) {
                grads.add(null);
                continue;
            }
            Tensor grad = Tensor.randn(g, dt, p.shape()).mul(Math.exp(g.nextDouble() * 4 - 2));
            p.setGrad(grad);
            grads.add(grad.toDoubleArray());
        }
        double sumSq = 0;
        for (double[] gr : grads) {
            if (gr != null) {
                for (double v : gr) {
                    sumSq += v * v;
                }
            }
        }
        double ref = Math.sqrt(sumSq);
        double maxNorm = 0.1 + 3 * g.nextDouble();
        double got = GradClip.clipGlobalNorm(ps, maxNorm);
        assertEquals(ref, got, 1e-12 * Math.max(1, ref));
        double scale = ref > maxNorm ? maxNorm / (ref + 1e-6) : 1; // torch: clip_coef = max/(norm+1e-6), applied when < 1
        for (int i = 0; i < n; i++) {
            if (grads.get(i) == null) {
                assertEquals(null, ps.get(i).grad());
                continue;
            }
            double[] after = ps.get(i).grad().toDoubleArray();
            for (int j = 0; j < after.length; j++) {
                assertEquals(grads.get(i)[j] * scale, after[j], 1e-6 * Math.abs(grads.get(i)[j]) + 1e-12);
            }
        }
        assertTrue(GradClip.totalNorm(ps) <= Math.max(maxNorm, ref) * (1 + 1e-6));
    }

    @Test
    void nonFiniteNormIsReturnedAndGradientsKept() {
        Variable p = Variable.of(Tensor.zeros(DType.F32, 3), true);
        p.setGrad(Tensor.of(new float[] {1, Float.NaN, 2}, 3));
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(List.of(p), 1)));
        assertEquals(1f, p.grad().getFloat(0));
        p.setGrad(Tensor.of(new float[] {1, Float.POSITIVE_INFINITY, 2}, 3));
        assertEquals(Double.POSITIVE_INFINITY, GradClip.clipGlobalNorm(List.of(p), 1));
        assertArrayEquals(new float[] {1, Float.POSITIVE_INFINITY, 2}, p.grad().toFloatArray());
    }
}
