package dev.tessera.nn.attention;

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

class SinkformerAttentionTest {

    /** Sinkhorn in plain doubles, per (b, h): K⁰ = exp(q·k/√D) (0 where masked), n alternating row/column normalisations, K V. */
    static double[] reference(int n, Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] p = new double[t][t];
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        double s = AttentionReference.dot(AttentionReference.row(qa, q.shape(), b, h, i),
                                AttentionReference.row(ka, k.shape(), b, h, j)) / Math.sqrt(d);
                        p[i][j] = mask.allowed(b, i, j, t, t) ? Math.exp(s) : 0;
                    }
                }
                for (int l = 0; l < n; l++) {
                    for (int a = 0; a < t; a++) {
                        double sum = 0;
                        for (int c = 0; c < t; c++) {
                            sum += l % 2 == 0 ? p[a][c] : p[c][a];
                        }
                        for (int c = 0; c < t; c++) {
                            if (l % 2 == 0) {
                                p[a][c] /= sum;
                            } else {
                                p[c][a] /= sum;
                            }
                        }
                    }
                }
                double[][] vm = NystromReference.matrix(va, v.shape(), b, h);
                double[][] o = NystromReference.mul(p, vm);
                for (int i = 0; i < t; i++) {
                    System.arraycopy(o[i], 0, out, ((b * heads + h) * t + i) * dv, dv);
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 1, max = 5) int d,
            @ForAll @IntRange(min = 1, max = 7) int n, @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        var kernel = new SinkformerAttention(new SinkformerAttention.Options(n));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, t, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, t, d + 1);
        AttentionMask mask = AttentionReference.mask(documents ? 2 : 0, b, t, t, seed);
        double[] expected = reference(n, q, k, v, mask);
        AttentionReference.assertClose(expected, kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask)
                .data(), 1e-9);
        Variable out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), mask);
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(expected, out32.data(), 1e-4);
    }

    /** One normalisation is softmax attention; many give a doubly stochastic matrix (rows and columns sum to 1). */
    @Test
    void oneStepIsSoftmaxAndManyAreDoublyStochastic() {
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 2, 2, 6, 4));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 2, 2, 6, 4));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 2, 2, 6, 3));
        AttentionReference.assertClose(AttentionReference.naiveSoftmax(q, k, v, AttentionMask.NONE).data(),
                new SinkformerAttention(new SinkformerAttention.Options(1)).attend(q, k, v, AttentionMask.NONE).data(), 1e-12);
        Tensor p = SinkformerAttention.logSinkhorn(q.matmul(k.mT()).mul(0.5), 41).exp().data(); // ends on rows
        double[] ones = Tensor.full(1, DType.F64, 2, 2, 6).toDoubleArray();
        AttentionReference.assertClose(ones, p.sum(-1), 1e-12);
        AttentionReference.assertClose(ones, p.sum(-2), 1e-6);
    }

    @Test
    void finiteDifferenceGradients() {
        var kernel = new SinkformerAttention(new SinkformerAttention.Options(4));
        for (int kind : new int[] {0, 2}) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 5, 5, 13);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 5, 3),
                    AttentionReference.randn(2, 1, 2, 2, 5, 3), AttentionReference.randn(3, 1, 2, 2, 5, 2));
        }
    }

    @Test
    void refusesCausalMasksRectangularScoresAndBadOptions() {
        var kernel = new SinkformerAttention(SinkformerAttention.Options.DEFAULT);
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        assertEquals("SinkformerAttention: column normalisation couples every query, so it is bidirectional only; got a causal mask",
                assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly())).getMessage());
        Variable q = Variable.constant(AttentionReference.randn(2, 1, 1, 1, 3, 2));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> kernel.attend(q, x, x, AttentionMask.NONE)).getMessage()
                .startsWith("SinkformerAttention: Sinkhorn needs a square attention matrix, got T 3 != S 4"));
        assertThrows(IllegalArgumentException.class, () -> new SinkformerAttention.Options(0));
        assertTrue(!AttentionKind.SINKFORMER.causal());
    }

    /** A bidirectional task (a masked token from both its neighbours): 10 steps lower the loss well below its start. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = BidirectionalTraining.train(g -> new SinkformerAttention(SinkformerAttention.Options.DEFAULT), 10);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
