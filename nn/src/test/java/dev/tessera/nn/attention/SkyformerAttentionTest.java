package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.NystromReference.matrix;
import static dev.tessera.nn.attention.NystromReference.mul;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SkyformerAttentionTest {

    /** The paper's equations in double loops, per (b, h), for given landmark rows of [Q; K]. */
    static double[] reference(SkyformerAttention.Options o, int[] rows, Tensor q, Tensor k, Tensor v) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), dv = v.size(3), m = rows.length;
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] qm = matrix(qa, q.shape(), b, h), km = matrix(ka, k.shape(), b, h), vm = matrix(va, v.shape(), b, h);
                double[][] z = new double[m][];
                for (int i = 0; i < m; i++) {
                    z[i] = rows[i] < t ? qm[rows[i]] : km[rows[i] - t];
                }
                double[][] a = SoftAttentionTest.gaussian(z, z);
                double[] scale = new double[m];
                for (int i = 0; i < m; i++) {
                    a[i][i] += o.ridge();
                    scale[i] = 1 / Math.sqrt(Arrays.stream(a[i]).sum());
                }
                double[][] an = new double[m][m];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < m; j++) {
                        an[i][j] = scale[i] * a[i][j] * scale[j];
                    }
                }
                double[][] p = NystromReference.nystromPinv(an, o.pinvIterations());
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < m; j++) {
                        p[i][j] *= scale[i] * scale[j];
                    }
                }
                double[][] res = mul(mul(SoftAttentionTest.gaussian(qm, z), p), mul(SoftAttentionTest.gaussian(z, km), vm));
                for (int i = 0; i < t; i++) {
                    System.arraycopy(res[i], 0, out, ((b * heads + h) * t + i) * dv, dv);
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 8) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 2, max = 6) int m,
            @ForAll @IntRange(min = 1, max = 8) int iterations, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        var options = new SkyformerAttention.Options(m, iterations, 0.1);
        var kernel = new SkyformerAttention(options, new Generator(seed));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        int[] rows = new SkyformerAttention(options, new Generator(seed)).drawLandmarks(t, s); // the draw attend will make
        for (int i = 0; i < m; i++) {
            assertTrue(i < (m + 1) / 2 ? rows[i] < t : rows[i] >= t && rows[i] < t + s, Arrays.toString(rows));
        }
        AttentionReference.assertClose(reference(options, rows, q, k, v), kernel.attend(Variable.constant(q), Variable.constant(k),
                Variable.constant(v), AttentionMask.NONE).data(), 1e-9);
    }

    /** Landmarks are redrawn at each call; F32 follows F64 for the same draw. */
    @Test
    void landmarksAreRedrawnAndF32Follows() {
        var kernel = new SkyformerAttention(new SkyformerAttention.Options(6, 6, 0.1), new Generator(3));
        assertFalse(Arrays.equals(kernel.drawLandmarks(20, 20), kernel.drawLandmarks(20, 20)));
        Tensor q = AttentionReference.randn(1, 1, 2, 2, 9, 4), k = AttentionReference.randn(2, 1, 2, 2, 9, 4);
        Tensor v = AttentionReference.randn(3, 1, 2, 2, 9, 3);
        int[] rows = {0, 4, 8, 9, 13, 17};
        Tensor out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), rows).data();
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(reference(kernel.options(), rows, q, k, v), out32, 1e-4);
    }

    @Test
    void finiteDifferenceGradients() {
        var kernel = new SkyformerAttention(new SkyformerAttention.Options(4, 4, 0.1), new Generator(8));
        int[] rows = {1, 3, 6, 9};
        GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], rows), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                AttentionReference.randn(2, 1, 2, 2, 6, 3), AttentionReference.randn(3, 1, 2, 2, 6, 2));
    }

    @Test
    void refusesMasksAndBadOptions() {
        var kernel = new SkyformerAttention(SkyformerAttention.Options.DEFAULT, new Generator(1));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        assertEquals("SkyformerAttention: landmarks average over the whole sequence, so it is bidirectional only; got a causal mask",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly())).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SkyformerAttention.Options(1, 6, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new SkyformerAttention.Options(4, 0, 0.1));
        assertEquals("SkyformerAttention: ridge must be finite and >= 0, got -1.0",
                assertThrows(IllegalArgumentException.class, () -> new SkyformerAttention.Options(4, 6, -1)).getMessage());
        assertTrue(!AttentionKind.SKYFORMER.causal());
    }

    /** A bidirectional task (a masked token from both its neighbours): 10 steps lower the loss well below its start. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = BidirectionalTraining.train(g -> new SkyformerAttention(new SkyformerAttention.Options(6, 6, 0.1), g), 10);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
