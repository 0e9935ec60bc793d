package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AverageAttentionTest {

    /** Random parameters {W₁ (H, D, F), b₁ (H, F), W₂ (H, F, D), b₂ (H, D), W_g (H, 2D, 2D), b_g (H, 2D)} in F64. */
    static Tensor[] params(long seed, int h, int d, int f) {
        return new Tensor[] {AttentionReference.randn(seed, 0.6, h, d, f), AttentionReference.randn(seed + 1, 0.3, h, f),
            AttentionReference.randn(seed + 2, 0.6, h, f, d), AttentionReference.randn(seed + 3, 0.3, h, d),
            AttentionReference.randn(seed + 4, 0.6, h, 2 * d, 2 * d), AttentionReference.randn(seed + 5, 0.3, h, 2 * d)};
    }

    /**
     * AAN token by token in double loops with y = v: the running sum restarted at each document's first
     * position, mean = sum / count, g = relu(mean W₁ + b₁) W₂ + b₂, [i; f] = σ([y; g] W_g + b_g),
     * h = i y + f g, for the queries at the last T of S positions.
     */
    static double[] reference(int t, Tensor v, Tensor[] p, AttentionMask mask) {
        int bsz = v.size(0), h = v.size(1), s = v.size(2), d = v.size(3), f = p[0].size(2);
        double[] va = v.toDoubleArray(), w1 = p[0].toDoubleArray(), b1 = p[1].toDoubleArray(), w2 = p[2].toDoubleArray();
        double[] b2 = p[3].toDoubleArray(), wg = p[4].toDoubleArray(), bg = p[5].toDoubleArray();
        double[] out = new double[bsz * h * t * d];
        for (int b = 0; b < bsz; b++) {
            long[] doc = KernelSupport.documentRow(mask, b);
            for (int hh = 0; hh < h; hh++) {
                double[] sum = new double[d];
                int count = 0;
                for (int j = 0; j < s; j++) {
                    if (doc != null && j > 0 && doc[j] != doc[j - 1]) {
                        sum = new double[d];
                        count = 0;
                    }
                    double[] y = AttentionReference.row(va, v.shape(), b, hh, j);
                    count++;
                    for (int c = 0; c < d; c++) {
                        sum[c] += y[c];
                    }
                    int i = j - (s - t);
                    if (i < 0) {
                        continue;
                    }
                    double[] hidden = new double[f];
                    for (int u = 0; u < f; u++) {
                        double a = b1[hh * f + u];
                        for (int c = 0; c < d; c++) {
                            a += sum[c] / count * w1[(hh * d + c) * f + u];
                        }
                        hidden[u] = Math.max(0, a);
                    }
                    double[] g = new double[d];
                    for (int c = 0; c < d; c++) {
                        g[c] = b2[hh * d + c];
                        for (int u = 0; u < f; u++) {
                            g[c] += hidden[u] * w2[(hh * f + u) * d + c];
                        }
                    }
                    double[] yg = new double[2 * d];
                    System.arraycopy(y, 0, yg, 0, d);
                    System.arraycopy(g, 0, yg, d, d);
                    double[] gates = new double[2 * d];
                    for (int o = 0; o < 2 * d; o++) {
                        double a = bg[hh * 2 * d + o];
                        for (int c = 0; c < 2 * d; c++) {
                            a += yg[c] * wg[(hh * 2 * d + c) * 2 * d + o];
                        }
                        gates[o] = 1 / (1 + Math.exp(-a));
                    }
                    for (int c = 0; c < d; c++) {
                        out[((b * h + hh) * t + i) * d + c] = gates[c] * y[c] + gates[d + c] * g[c];
                    }
                }
            }
        }
        return out;
    }

    private static Variable[] constants(Tensor[] p, DType dtype) {
        Variable[] out = new Variable[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = Variable.constant(p[i].to(dtype));
        }
        return out;
    }

    @Property(tries = 40)
    void fullFormMatchesTheRecurrence(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 7) int f,
            @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        Tensor[] p = params(seed + 3, h, d, f);
        AttentionMask mask = AttentionReference.mask(documents ? 3 : 1, b, t, s, seed);
        double[] expected = reference(t, v, p, mask);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable out = AverageAttention.attend(Variable.constant(q.to(dtype)), Variable.constant(k.to(dtype)),
                    Variable.constant(v.to(dtype)), constants(p, dtype), mask);
            assertEquals(dtype, out.dtype());
            AttentionReference.assertClose(expected, out.data(), dtype == DType.F64 ? 1e-12 : 2e-5);
        }
    }

    /** Decoding with the running sum equals the full causal form token by token, and a KV-cache tail (T < S) too. */
    @Test
    void runningSumDecodingEqualsFullForm() {
        int b = 2, h = 3, t = 11, d = 4;
        AverageAttention kernel = new AverageAttention(h, d, new Generator(7));
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Tensor q = AttentionReference.randn(1, 1, b, h, t, d).to(dtype);
            Tensor k = AttentionReference.randn(2, 1, b, h, t, d).to(dtype);
            Tensor v = AttentionReference.randn(3, 1, b, h, t, d).to(dtype);
            AverageAttention.State state = kernel.newState(b, dtype);
            double tol = dtype == DType.F64 ? 1e-12 : 1e-5;
            RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 6, tol, (qi, ki, vi) -> kernel.step(state, qi, ki, vi));
            assertEquals(t, state.steps());
        }
    }

    @Test
    void finiteDifferenceGradientsIncludingParameters() {
        Tensor[] p = params(9, 2, 3, 4);
        for (int kind : new int[] {1, 3}) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            GradCheck.check(in -> AverageAttention.attend(in[0], in[1], in[2], java.util.Arrays.copyOfRange(in, 3, 9), mask),
                    AttentionReference.randn(1, 1, 2, 2, 4, 3), AttentionReference.randn(2, 1, 2, 2, 5, 3),
                    AttentionReference.randn(3, 1, 2, 2, 5, 3), p[0], p[1], p[2], p[3], p[4], p[5]);
        }
    }

    @Test
    void parametersAndErrors() {
        AverageAttention kernel = new AverageAttention(2, 3, new Generator(1));
        assertEquals(Set.of("ffn_up_weight", "ffn_up_bias", "ffn_down_weight", "ffn_down_bias", "gate_weight", "gate_bias"),
                kernel.namedParameters().keySet());
        assertEquals(java.util.List.of(2, 3, 12), java.util.Arrays.stream(kernel.namedParameters().get("ffn_up_weight").shape()).boxed()
                .toList());
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3));
        String bidirectional = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.NONE)).getMessage();
        assertTrue(bidirectional.startsWith("AverageAttention:") && bidirectional.contains("causal") && !bidirectional.contains("\n"),
                bidirectional);
        AttentionMask interleaved = new AttentionMask(true, Tensor.of(new long[] {0, 1, 0, 1}, 1, 4), 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, interleaved)).getMessage().contains("contiguous"));
        Variable wrongHeads = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 4, 3));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(wrongHeads, wrongHeads, wrongHeads, AttentionMask.causalOnly()));
        assertThrows(IllegalArgumentException.class, () -> new AverageAttention(0, 3, new Generator(1)));
    }
}
