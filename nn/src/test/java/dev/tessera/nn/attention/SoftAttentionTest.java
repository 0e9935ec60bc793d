package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.NystromReference.matrix;
import static dev.tessera.nn.attention.NystromReference.mul;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SoftAttentionTest {

    /** κ(x, y) = exp(−‖x − y‖²/(2√D)) between the rows of x and y, summed as differences. */
    static double[][] gaussian(double[][] x, double[][] y) {
        double[][] r = new double[x.length][y.length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < y.length; j++) {
                double sq = 0;
                for (int c = 0; c < x[i].length; c++) {
                    sq += (x[i][c] - y[j][c]) * (x[i][c] - y[j][c]);
                }
                r[i][j] = Math.exp(-sq / (2 * Math.sqrt(x[i].length)));
            }
        }
        return r;
    }

    /** Newton–Raphson from Z₀ = aᵀ/(‖a‖₁‖a‖_∞): Z ← 2Z − Z a Z. */
    static double[][] newton(double[][] a, int iterations) {
        double[][] z = NystromReference.scale(NystromReference.transpose(a), 1 / NystromReference.norm1TimesNormInf(a));
        for (int i = 0; i < iterations; i++) {
            double[][] zaz = mul(mul(z, a), z);
            double[][] next = new double[z.length][z.length];
            for (int r = 0; r < z.length; r++) {
                for (int c = 0; c < z.length; c++) {
                    next[r][c] = 2 * z[r][c] - zaz[r][c];
                }
            }
            z = next;
        }
        return z;
    }

    static double[] reference(SoftAttention kernel, Tensor q, Tensor k, Tensor v) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), s = k.size(2), dv = v.size(3), m = kernel.options().landmarks();
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] qm = matrix(qa, q.shape(), b, h), km = matrix(ka, k.shape(), b, h), vm = matrix(va, v.shape(), b, h);
                double[][] o;
                if (m >= s) {
                    o = mul(gaussian(qm, km), vm);
                } else {
                    double[][] land = NystromReference.segmentMeans(km, m);
                    o = mul(mul(gaussian(qm, land), newton(gaussian(land, land), kernel.options().newtonIterations())),
                            mul(gaussian(land, km), vm));
                }
                for (int i = 0; i < t; i++) {
                    System.arraycopy(o[i], 0, out, ((b * heads + h) * t + i) * dv, dv);
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 5) int m,
            @ForAll @IntRange(min = 1, max = 12) int iterations, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        var kernel = new SoftAttention(new SoftAttention.Options(m, iterations));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        double[] expected = reference(kernel, q, k, v);
        AttentionReference.assertClose(expected, kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                AttentionMask.NONE).data(), 1e-8);
    }

    /** Newton's iteration converges to the inverse of a well-conditioned Gaussian kernel matrix, and F32 follows F64. */
    @Test
    void newtonConvergesAndF32Follows() {
        Variable x = Variable.constant(AttentionReference.randn(4, 2, 2, 2, 5, 3)); // spread points: A near I
        Variable a = SoftAttention.gaussian(x, x);
        Tensor az = a.matmul(SoftAttention.newtonPseudoInverse(a, 40)).data();
        AttentionReference.assertClose(Tensor.eye(5, DType.F64).expand(2, 2, 5, 5).contiguous().toDoubleArray(), az, 1e-9);
        var kernel = new SoftAttention(new SoftAttention.Options(3, 8));
        Tensor q = AttentionReference.randn(1, 1, 2, 2, 7, 4), k = AttentionReference.randn(2, 1, 2, 2, 7, 4);
        Tensor v = AttentionReference.randn(3, 1, 2, 2, 7, 3);
        Tensor out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), AttentionMask.NONE).data();
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(reference(kernel, q, k, v), out32, 1e-3);
    }

    @Test
    void finiteDifferenceGradients() {
        var kernel = new SoftAttention(new SoftAttention.Options(3, 5));
        GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], AttentionMask.NONE), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                AttentionReference.randn(2, 1, 2, 2, 7, 3), AttentionReference.randn(3, 1, 2, 2, 7, 2));
    }

    @Test
    void refusesMasksAndBadOptions() {
        var kernel = new SoftAttention(SoftAttention.Options.DEFAULT);
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        assertEquals("SoftAttention: landmarks average over the whole sequence, so it is bidirectional only; got a causal mask",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly())).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SoftAttention.Options(0, 5));
        assertThrows(IllegalArgumentException.class, () -> new SoftAttention.Options(4, 0));
        assertTrue(!AttentionKind.SOFT.causal());
    }

    /** A bidirectional task (a masked token from both its neighbours): 10 steps lower the loss well below its start. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = BidirectionalTraining.train(g -> new SoftAttention(new SoftAttention.Options(4, 10)), 10);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
