package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.row;
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

class LinearAttentionTest {

    /** elu(x) + 1 from its definition: x + 1 above 0, eˣ at or below. */
    static double phi(double x) {
        return x > 0 ? x + 1 : Math.exp(x);
    }

    /** The quadratic masked form Σ_s φ(q_t)·φ(k_s) v_s / Σ_s φ(q_t)·φ(k_s) in double loops. */
    static double[] reference(Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray();
        return AttentionReference.attend(q.shape(), v.toDoubleArray(), v.shape(), mask, (b, h, i, j) -> {
            double[] qi = row(qa, q.shape(), b, h, i), kj = row(ka, k.shape(), b, h, j);
            double w = 0;
            for (int c = 0; c < qi.length; c++) {
                w += phi(qi[c]) * phi(kj[c]);
            }
            return w;
        });
    }

    @Property(tries = 40)
    void parallelAndQuadraticFormsMatchTheReference(@ForAll @IntRange(min = 1, max = 2) int b,
            @ForAll @IntRange(min = 1, max = 2) int h, @ForAll @IntRange(min = 1, max = 6) int t,
            @ForAll @IntRange(min = 0, max = 3) int extra, @ForAll @IntRange(min = 1, max = 5) int d,
            @ForAll @IntRange(min = 0, max = 3) int maskKind, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1.5, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1.5, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        double[] expected = reference(q, k, v, mask);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            double tol = dtype == DType.F64 ? 1e-10 : 1e-5;
            Variable[] x = {Variable.constant(q.to(dtype)), Variable.constant(k.to(dtype)), Variable.constant(v.to(dtype))};
            Tensor parallel = new LinearAttention().attend(x[0], x[1], x[2], mask).data();
            assertEquals(dtype, parallel.dtype());
            AttentionReference.assertClose(expected, parallel, tol);
            AttentionReference.assertClose(expected, new LinearAttention().attendQuadratic(x[0], x[1], x[2], mask).data(), tol);
        }
    }

    @Test
    void featureMapIsEluPlusOne() {
        double[] xs = {-30, -2, -0.5, 0, 1e-9, 0.5, 3};
        Tensor got = LinearAttention.features(Variable.constant(Tensor.of(xs, xs.length))).data();
        for (int i = 0; i < xs.length; i++) {
            assertEquals(phi(xs[i]), got.getDouble(i), 1e-15 * (1 + phi(xs[i])));
            assertTrue(got.getDouble(i) > 0);
        }
        // slope 1 at and above 0, eˣ below: the map is C¹ at 0
        Variable x = Variable.of(Tensor.of(xs, xs.length), true);
        LinearAttention.features(x).sum().backward();
        for (int i = 0; i < xs.length; i++) {
            assertEquals(xs[i] >= 0 ? 1 : Math.exp(xs[i]), x.grad().getDouble(i), 1e-15);
        }
    }

    /** Decoding token by token with the RNN state (S, z) equals the parallel causal form, and a KV-cache tail (T < S) too. */
    @Test
    void recurrentDecodingEqualsParallelCausal() {
        int b = 2, h = 2, t = 12, d = 4, dv = 3;
        LinearAttention kernel = new LinearAttention();
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Tensor q = AttentionReference.randn(1, 2, b, h, t, d).to(dtype);
            Tensor k = AttentionReference.randn(2, 2, b, h, t, d).to(dtype);
            Tensor v = AttentionReference.randn(3, 1, b, h, t, dv).to(dtype);
            LinearAttention.State state = kernel.newState(b, h, d, dv, dtype);
            double tol = dtype == DType.F64 ? 1e-12 : 1e-5;
            RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 7, tol, (qi, ki, vi) -> kernel.step(state, qi, ki, vi));
            assertEquals(t, state.steps());
        }
    }

    /** Without a mask the output is the same for every query order of keys: bidirectional, each query sees all keys. */
    @Test
    void bidirectionalIgnoresKeyOrder() {
        LinearAttention kernel = new LinearAttention();
        Tensor q = AttentionReference.randn(4, 1, 1, 2, 5, 3);
        Tensor k = AttentionReference.randn(5, 1, 1, 2, 5, 3);
        Tensor v = AttentionReference.randn(6, 1, 1, 2, 5, 3);
        Tensor perm = Tensor.of(new long[] {3, 0, 4, 1, 2}, 5);
        Tensor a = kernel.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), AttentionMask.NONE).data();
        Tensor p = kernel.attend(Variable.constant(q), Variable.constant(k.indexSelect(2, perm)), Variable.constant(v.indexSelect(2, perm)),
                AttentionMask.NONE).data();
        AttentionReference.assertClose(a, p, 1e-12);
    }

    @Test
    void finiteDifferenceGradients() {
        LinearAttention kernel = new LinearAttention();
        for (int kind = 0; kind < 4; kind++) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            GradCheck.check(in -> kernel.attend(in[0], in[1], in[2], mask), AttentionReference.randn(1, 1, 2, 2, 4, 3),
                    AttentionReference.randn(2, 1, 2, 2, 5, 3), AttentionReference.randn(3, 1, 2, 2, 5, 2));
        }
    }

    @Test
    void rejectsBadArguments() {
        LinearAttention kernel = new LinearAttention();
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 1, 4, 2));
        AttentionMask interleaved = new AttentionMask(true, Tensor.of(new long[] {0, 1, 0, 1}, 1, 4), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, interleaved));
        assertTrue(e.getMessage().startsWith("LinearAttention:") && e.getMessage().contains("contiguous"), e.getMessage());
        LinearAttention.State state = kernel.newState(1, 1, 2, 2, DType.F64);
        Tensor wide = AttentionReference.randn(1, 1, 1, 1, 1, 3);
        assertThrows(IllegalArgumentException.class, () -> kernel.step(state, wide, wide, wide));
    }
}
