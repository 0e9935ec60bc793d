package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.NystromReference.matrix;
import static dev.tessera.nn.attention.NystromReference.mul;
import static dev.tessera.nn.attention.NystromReference.scale;
import static dev.tessera.nn.attention.NystromReference.segmentMeans;
import static dev.tessera.nn.attention.NystromReference.softmaxRows;
import static dev.tessera.nn.attention.NystromReference.transpose;
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
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class NystromAttentionTest {

    /** The paper's equations in double loops, per (batch, head), from scratch. */
    static double[] reference(NystromAttention kernel, Tensor q, Tensor k, Tensor v) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), s = k.size(2), d = q.size(3), dv = v.size(3);
        int m = kernel.options().landmarks();
        int conv = kernel.options().convKernel();
        double[] w = conv > 0 ? kernel.namedParameters().get("conv.weight").data().toDoubleArray() : null; // (H, 1, K, 1)
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        double c = Math.pow(d, -0.25);
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] qs = scale(matrix(qa, q.shape(), b, h), c), ks = scale(matrix(ka, k.shape(), b, h), c);
                double[][] vm = matrix(va, v.shape(), b, h);
                double[][] o;
                if (m >= t || m >= s) {
                    o = mul(softmaxRows(mul(qs, transpose(ks))), vm);
                } else {
                    double[][] ql = segmentMeans(qs, m), kl = segmentMeans(ks, m);
                    double[][] f = softmaxRows(mul(qs, transpose(kl)));
                    double[][] a = softmaxRows(mul(ql, transpose(kl)));
                    double[][] bb = softmaxRows(mul(ql, transpose(ks)));
                    o = mul(mul(f, NystromReference.nystromPinv(a, kernel.options().pinvIterations())), mul(bb, vm));
                }
                for (int i = 0; i < t; i++) {
                    for (int e = 0; e < dv; e++) {
                        double acc = o[i][e];
                        for (int j = 0; j < conv; j++) {
                            int src = i + j - conv / 2;
                            acc += src >= 0 && src < s ? w[h * conv + j] * vm[src][e] : 0;
                        }
                        out[((b * heads + h) * t + i) * dv + e] = acc;
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesTheDoubleReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 11) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 6) int m,
            @ForAll @IntRange(min = 1, max = 8) int iterations, @ForAll @IntRange(min = 0, max = 2) int conv,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = conv > 0 ? t : t + extra;
        var options = new NystromAttention.Options(m, iterations, conv == 0 ? 0 : 2 * conv - 1);
        NystromAttention kernel = new NystromAttention(options, h, DType.F64, new Generator(seed));
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        double[] expected = reference(kernel, q, k, v);
        AttentionReference.assertClose(expected, kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                AttentionMask.NONE).data(), 1e-9);
        Variable out32 = kernel.attend(Variable.constant(q.to(DType.F32)), Variable.constant(k.to(DType.F32)),
                Variable.constant(v.to(DType.F32)), AttentionMask.NONE);
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(expected, out32.data(), 2e-3);
    }

    /** With enough iterations Z is the inverse of a (well-conditioned) softmax matrix: A Z = I. */
    @Test
    void pseudoInverseConverges() {
        Variable a = Variable.constant(AttentionReference.randn(3, 0.5, 2, 3, 5, 5)).softmax(-1);
        Tensor az = a.matmul(NystromAttention.pseudoInverse(a, 30)).data();
        AttentionReference.assertClose(Tensor.eye(5, DType.F64).expand(2, 3, 5, 5).contiguous().toDoubleArray(), az, 1e-9);
    }

    @Test
    void finiteDifferenceGradients() {
        NystromAttention kernel = new NystromAttention(new NystromAttention.Options(3, 4, 3), 2, DType.F64, new Generator(8));
        GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], AttentionMask.NONE), AttentionReference.randn(1, 1, 2, 2, 7, 3),
                AttentionReference.randn(2, 1, 2, 2, 7, 3), AttentionReference.randn(3, 1, 2, 2, 7, 2));
        Variable v = Variable.constant(AttentionReference.randn(4, 1, 1, 2, 5, 2));
        GradCheck.check(in -> NystromAttention.depthwiseConv(v, in[0]), AttentionReference.randn(5, 1, 2, 1, 3, 1));
    }

    @Test
    void refusesMasksAndBadOptions() {
        NystromAttention kernel = new NystromAttention(NystromAttention.Options.DEFAULT, 1, DType.F64, new Generator(1));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.causalOnly()));
        assertEquals("NystromAttention: landmarks average over the whole sequence, so it is bidirectional only; got a causal mask",
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionReference.mask(2, 1, 4, 4, 3)));
        assertEquals("NystromAttention: landmarks must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> new NystromAttention.Options(0, 6, 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NystromAttention.Options(4, 0, 0));
        assertEquals("NystromAttention: convKernel must be 0 (none) or odd >= 1, got 4",
                assertThrows(IllegalArgumentException.class, () -> new NystromAttention.Options(4, 6, 4)).getMessage());
        assertTrue(!AttentionKind.NYSTROM.causal() && AttentionKind.SOFTMAX.causal());
    }

    /** The landmark kinds' options bind by name over the defaults (--attention-option, config.json attention_options). */
    @Test
    void kindsBindTheirOptionsByName() {
        assertEquals(NystromAttention.Options.DEFAULT, AttentionKind.NYSTROM.defaultOptions());
        assertEquals(new NystromAttention.Options(8, 6, 3),
                AttentionKind.NYSTROM.options(java.util.Map.of("landmarks", "8", "conv_kernel", "3")));
        assertEquals(SkyformerAttention.Options.DEFAULT, AttentionKind.SKYFORMER.defaultOptions());
        assertEquals(SoftAttention.Options.DEFAULT, AttentionKind.SOFT.defaultOptions());
        assertEquals(SinkformerAttention.Options.DEFAULT, AttentionKind.SINKFORMER.defaultOptions());
        assertEquals("NystromAttention: convKernel must be 0 (none) or odd >= 1, got 2", assertThrows(IllegalArgumentException.class,
                () -> AttentionKind.NYSTROM.options(java.util.Map.of("conv_kernel", "2"))).getMessage());
    }

    /** A bidirectional task (a masked token from both its neighbours): 10 steps lower the loss well below its start. */
    @Test
    void shortTrainingRunLowersTheLoss() {
        double[] loss = BidirectionalTraining.train(g -> new NystromAttention(new NystromAttention.Options(2, 6, 3), 2, DType.F32, g), 10);
        assertTrue(loss[1] < 0.5 * loss[0], "loss " + loss[0] + " -> " + loss[1]);
    }
}
