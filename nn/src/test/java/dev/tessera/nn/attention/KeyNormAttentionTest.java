package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class KeyNormAttentionTest {

    /** score = τ · q̂·k̂ or τ · q·k̂ with k̂ = k/√(|k|² + ε), in plain double loops. */
    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 5) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 6) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll boolean normQ, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        double tau = 0.5 + seed % 7;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        double[] expected = AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (bb, hh, i, j) -> {
            double[] qi = row(qa, q.shape(), bb, hh, i);
            double[] kj = row(ka, k.shape(), bb, hh, j);
            double kn = Math.sqrt(dot(kj, kj) + KeyNormAttention.EPS);
            double qn = normQ ? Math.sqrt(dot(qi, qi) + KeyNormAttention.EPS) : 1;
            return Math.exp(tau * dot(qi, kj) / (qn * kn));
        });
        KeyNormAttention kernel = new KeyNormAttention(normQ, tau, seed % 2 == 0);
        Variable out = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(expected, out.data(), 1e-6);
    }

    @Test
    void gradientsIncludingTemperature() {
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 3, 4, 7);
            for (boolean normQ : new boolean[] {false, true}) {
                GradCheck.check(in -> KeyNormAttention.attend(in[0], in[1], in[2], in[3], normQ, mask),
                        AttentionReference.randn(1, 1, 2, 2, 3, 3), AttentionReference.randn(2, 1, 2, 2, 4, 3),
                        AttentionReference.randn(3, 1, 2, 2, 4, 2), Tensor.of(new double[] {Math.log(2.0)}, 1));
            }
        }
    }

    @Test
    void learnedTemperatureIsALogParameter() {
        KeyNormAttention kernel = new KeyNormAttention(true, 4.0, true);
        assertEquals(java.util.Set.of("temperature"), kernel.namedParameters().keySet());
        assertEquals(Math.log(4.0), kernel.namedParameters().get("temperature").data().getDouble(0), 1e-6);
        assertEquals(4.0, kernel.temperature(), 1e-5);
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4).to(DType.F32));
        Variable k = Variable.constant(AttentionReference.randn(2, 1, 1, 2, 3, 4).to(DType.F32));
        Variable v = Variable.constant(AttentionReference.randn(3, 1, 1, 2, 3, 4).to(DType.F32));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        assertNotNull(kernel.namedParameters().get("temperature").grad());
        assertEquals(0, new KeyNormAttention().parameters().size());
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new KeyNormAttention(false, 0, false));
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 3, 4));
        Variable k = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 3, 5));
        assertThrows(IllegalArgumentException.class, () -> new KeyNormAttention().attend(q, k, k, AttentionMask.NONE));
    }
}
