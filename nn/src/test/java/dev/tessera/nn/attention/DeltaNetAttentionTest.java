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

class DeltaNetAttentionTest {

    /**
     * The delta rule token by token in double loops, S (Dv × D) restarted at each document's first
     * position: u = β(v − S k̂), S += u k̂ᵀ, out = S q̂ for the queries at the last T positions.
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, Tensor w, Tensor bias, AttentionMask mask) {
        int bsz = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray(), wa = w.toDoubleArray(), ba = bias.toDoubleArray();
        double[] out = new double[bsz * h * t * dv];
        for (int b = 0; b < bsz; b++) {
            long[] doc = KernelSupport.documentRow(mask, b);
            for (int hh = 0; hh < h; hh++) {
                double[][] st = new double[dv][d];
                for (int j = 0; j < s; j++) {
                    if (doc != null && j > 0 && doc[j] != doc[j - 1]) {
                        st = new double[dv][d];
                    }
                    double[] kj = AttentionReference.row(ka, k.shape(), b, hh, j);
                    double[] vj = AttentionReference.row(va, v.shape(), b, hh, j);
                    double logit = ba[hh];
                    for (int c = 0; c < d; c++) {
                        logit += wa[hh * d + c] * kj[c];
                    }
                    double beta = 1 / (1 + Math.exp(-logit));
                    double[] kn = normalize(kj);
                    for (int r = 0; r < dv; r++) {
                        double u = beta * (vj[r] - AttentionReference.dot(st[r], kn));
                        for (int c = 0; c < d; c++) {
                            st[r][c] += u * kn[c];
                        }
                    }
                    int i = j - (s - t);
                    if (i >= 0) {
                        double[] qn = normalize(AttentionReference.row(qa, q.shape(), b, hh, i));
                        for (int r = 0; r < dv; r++) {
                            out[((b * h + hh) * t + i) * dv + r] = AttentionReference.dot(st[r], qn);
                        }
                    }
                }
            }
        }
        return out;
    }

    static double[] normalize(double[] x) {
        double n = Math.sqrt(AttentionReference.dot(x, x) + DeltaNetAttention.EPS);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] / n;
        }
        return y;
    }

    @Property(tries = 40)
    void chunkwiseFormMatchesTheRecurrence(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 6) int chunk,
            @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor w = AttentionReference.randn(seed + 3, 1, h, d);
        Tensor bias = AttentionReference.randn(seed + 4, 1, h);
        AttentionMask mask = AttentionReference.mask(documents ? 3 : 1, b, t, s, seed);
        double[] expected = reference(q, k, v, w, bias, mask);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable out = DeltaNetAttention.attend(Variable.constant(q.to(dtype)), Variable.constant(k.to(dtype)),
                    Variable.constant(v.to(dtype)), Variable.constant(w.to(dtype)), Variable.constant(bias.to(dtype)), mask, chunk);
            assertEquals(dtype, out.dtype());
            AttentionReference.assertClose(expected, out.data(), dtype == DType.F64 ? 1e-10 : 2e-5);
        }
    }

    /** (I + L)⁻¹ by the doubling product is the inverse for every chunk size, including non-powers of two. */
    @Test
    void unitLowerInverseInverts() {
        for (int c : new int[] {1, 2, 3, 4, 5, 8, 13, 16, 17}) {
            Tensor l = AttentionReference.randn(c, 0.7, 2, c, c).tril(-1);
            Tensor inv = DeltaNetAttention.unitLowerInverse(Variable.constant(l)).data();
            Tensor eye = Tensor.eye(c, DType.F64);
            AttentionReference.assertClose(eye.expand(2, c, c).contiguous(), l.add(eye).matmul(inv), 1e-12);
        }
    }

    /** Decoding token by token with the fast weights equals the chunkwise causal form, and a KV-cache tail (T < S) too. */
    @Test
    void recurrentDecodingEqualsChunkwise() {
        int b = 2, h = 3, t = 11, d = 4, dv = 3;
        DeltaNetAttention kernel = new DeltaNetAttention(h, d, 4);
        kernel.namedParameters().get("beta_weight").data().copyFromInPlace(AttentionReference.randn(5, 1, h, d).to(DType.F32));
        kernel.namedParameters().get("beta_bias").data().copyFromInPlace(AttentionReference.randn(6, 1, h).to(DType.F32));
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Tensor q = AttentionReference.randn(1, 1, b, h, t, d).to(dtype);
            Tensor k = AttentionReference.randn(2, 1, b, h, t, d).to(dtype);
            Tensor v = AttentionReference.randn(3, 1, b, h, t, dv).to(dtype);
            DeltaNetAttention.State state = kernel.newState(b, dv, dtype);
            double tol = dtype == DType.F64 ? 1e-12 : 1e-5;
            RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 6, tol, (qi, ki, vi) -> kernel.step(state, qi, ki, vi));
            assertEquals(t, state.steps());
        }
    }

    @Test
    void finiteDifferenceGradientsIncludingBeta() {
        for (int kind : new int[] {1, 3}) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            GradCheck.check(in -> DeltaNetAttention.attend(in[0], in[1], in[2], in[3], in[4], mask, 2),
                    AttentionReference.randn(1, 1, 2, 2, 4, 3), AttentionReference.randn(2, 1, 2, 2, 5, 3),
                    AttentionReference.randn(3, 1, 2, 2, 5, 2), AttentionReference.randn(4, 1, 2, 3), AttentionReference.randn(5, 1, 2));
        }
    }

    @Test
    void parametersAndErrors() {
        DeltaNetAttention kernel = new DeltaNetAttention(2, 3);
        assertEquals(java.util.Set.of("beta_weight", "beta_bias"), kernel.namedParameters().keySet());
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3));
        String bidirectional = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.NONE)).getMessage();
        assertTrue(bidirectional.startsWith("DeltaNetAttention:") && bidirectional.contains("causal"), bidirectional);
        AttentionMask interleaved = new AttentionMask(true, Tensor.of(new long[] {0, 1, 0, 1}, 1, 4), 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, interleaved)).getMessage().contains("contiguous"));
        Variable wrongHeads = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 4, 3));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(wrongHeads, wrongHeads, wrongHeads, AttentionMask.causalOnly()));
        assertThrows(IllegalArgumentException.class, () -> new DeltaNetAttention(2, 3, 0));
    }
}
