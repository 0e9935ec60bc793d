package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class MemoryEfficientAttentionTest {

    /** Values vs exp(q·k/√D) in double loops, for block sizes smaller, equal and larger than S. */
    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 4) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 9) int block,
            @ForAll @IntRange(min = 0, max = 3) int maskKind, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 2, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 2, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 2);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask,
                (bb, hh, i, j) -> Math.exp(dot(row(qa, q.shape(), bb, hh, i), row(ka, k.shape(), bb, hh, j)) / Math.sqrt(d)));
        Variable out = new MemoryEfficientAttention(block).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-12);
        Variable out32 = new MemoryEfficientAttention(block).attend(Variable.constant(q.to(DType.F32)),
                Variable.constant(k.to(DType.F32)), Variable.constant(v.to(DType.F32)), mask);
        assertEquals(DType.F32, out32.dtype());
        AttentionReference.assertClose(expected, out32.data(), 1e-5);
    }

    /** Gradients equal those of the composite (matmul, mask, softmax, matmul) through autograd. */
    @Property(tries = 25)
    void gradientsEqualNaiveAttention(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 6) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 4) int block,
            @ForAll @IntRange(min = 0, max = 3) int maskKind, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Tensor[] inputs = {AttentionReference.randn(seed, 1.5, b, h, t, d), AttentionReference.randn(seed + 1, 1.5, b, h, s, d),
            AttentionReference.randn(seed + 2, 1, b, h, s, d)};
        Tensor gradOut = AttentionReference.randn(seed + 3, 1, b, h, t, d);
        Variable[] mine = leaves(inputs);
        Variable[] naive = leaves(inputs);
        Variable out = new MemoryEfficientAttention(block).attend(mine[0], mine[1], mine[2], mask);
        Variable ref = AttentionReference.naiveSoftmax(naive[0], naive[1], naive[2], mask);
        AttentionReference.assertClose(ref.data(), out.data(), 1e-12);
        out.backward(gradOut);
        ref.backward(gradOut);
        for (int i = 0; i < 3; i++) {
            AttentionReference.assertClose(naive[i].grad(), mine[i].grad(), 1e-10);
        }
    }

    private static Variable[] leaves(Tensor[] xs) {
        Variable[] out = new Variable[xs.length];
        for (int i = 0; i < xs.length; i++) {
            out[i] = Variable.of(xs[i].copy(), true);
        }
        return out;
    }

    @Test
    void finiteDifferenceGradients() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 6, 21);
            MemoryEfficientAttention kernel = new MemoryEfficientAttention(3);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 4, 3),
                    AttentionReference.randn(2, 1, 2, 2, 6, 3), AttentionReference.randn(3, 1, 2, 2, 6, 2));
        }
    }

    /**
     * T = S = 4096, causal, forward and backward: the largest scratch array is the q/k/v/out copies
     * (B·H·T·D), far below the T×S = 16.7M elements a score matrix would need. Spot-checks a few
     * output rows and the key gradient sum against plain loops.
     */
    @Test
    void longSequenceNeverAllocatesTheScoreMatrix() {
        int b = 1, h = 1, t = 4096, d = 8;
        MemoryEfficientAttention kernel = new MemoryEfficientAttention(128);
        Variable q = Variable.of(AttentionReference.randn(1, 1, b, h, t, d).to(DType.F32), true);
        Variable k = Variable.of(AttentionReference.randn(2, 1, b, h, t, d).to(DType.F32), true);
        Variable v = Variable.of(AttentionReference.randn(3, 1, b, h, t, d).to(DType.F32), true);
        Variable out = kernel.attend(q, k, v, AttentionMask.causalOnly());
        out.sum().backward();
        long bound = (long) b * h * t * d;
        assertTrue(kernel.peakScratchElements() <= bound, () -> "peak scratch " + kernel.peakScratchElements() + " > " + bound);
        assertTrue(kernel.peakScratchElements() < (long) t * t / 256);
        double[] qa = q.data().toDoubleArray(), ka = k.data().toDoubleArray(), va = v.data().toDoubleArray();
        for (int i : new int[] {0, 1, 777, 4095}) {
            double[] qi = java.util.Arrays.copyOfRange(qa, i * d, i * d + d);
            double max = Double.NEGATIVE_INFINITY;
            double[] x = new double[i + 1];
            for (int j = 0; j <= i; j++) {
                x[j] = dot(qi, java.util.Arrays.copyOfRange(ka, j * d, j * d + d)) / Math.sqrt(d);
                max = Math.max(max, x[j]);
            }
            double l = 0;
            double[] acc = new double[d];
            for (int j = 0; j <= i; j++) {
                double p = Math.exp(x[j] - max);
                l += p;
                for (int c = 0; c < d; c++) {
                    acc[c] += p * va[j * d + c];
                }
            }
            for (int c = 0; c < d; c++) {
                assertEquals(acc[c] / l, out.data().getDouble(0, 0, i, c), 1e-5);
            }
        }
        // Σ_t out_t summed: dL/dv_s = Σ_t P_ts, so the v-gradient sums to the number of queries
        assertEquals(t * d, v.grad().sum().item(), 1e-1 * d);
        // softmax rows sum to one whatever the keys, so Σ over keys of dL/dk is zero for each query
        assertEquals(0, k.grad().sum().item(), 1e-2);
    }
}
