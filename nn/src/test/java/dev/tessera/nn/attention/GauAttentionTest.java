package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GauAttentionTest {

    /** Seeded weights: scale-offsets (H, D) and the bias (H, 2m − 1); the lin_ four only for FLASH. */
    static Tensor[] randomWeights(long seed, int h, int d, int m, boolean flash) {
        Tensor[] w = new Tensor[flash ? 9 : 5];
        for (int i = 0; i < w.length; i++) {
            w[i] = AttentionReference.randn(seed + i, 0.7, h, i == 4 ? 2 * m - 1 : d);
        }
        return w;
    }

    static GauAttention.Weights weights(Variable[] in, int from) {
        boolean flash = in.length - from == 9;
        return new GauAttention.Weights(in[from], in[from + 1], in[from + 2], in[from + 3], in[from + 4], flash ? in[from + 5] : null,
                flash ? in[from + 6] : null, flash ? in[from + 7] : null, flash ? in[from + 8] : null);
    }

    static GauAttention.Weights weights(Tensor[] w, DType dtype) {
        Variable[] in = new Variable[w.length];
        for (int i = 0; i < w.length; i++) {
            in[i] = Variable.constant(w[i].to(dtype));
        }
        return weights(in, 0);
    }

    /**
     * GAU / FLASH in double loops from the definitions: weight(i, j) = relu(Q_i·K_j/n + b_h(clip(p − j)))² with Q = γ_q q + β_q,
     * K = γ_k k + β_k, n = m for GAU; FLASH uses n = C inside the query's chunk (chunks of C by absolute position) and
     * Q'_i·K'_j / C for keys of earlier chunks. out_i = Σ_j weight(i, j) v_j over allowed keys, not normalised.
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, Tensor[] w, AttentionMask mask, int m, int chunk) {
        int bsz = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[][] p = new double[w.length][];
        for (int i = 0; i < w.length; i++) {
            p[i] = w[i].toDoubleArray();
        }
        double[] out = new double[bsz * h * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < t; i++) {
                    int pos = mask.queryOffset() + i;
                    double[] qi = AttentionReference.row(qa, q.shape(), b, hh, i);
                    for (int j = 0; j < s; j++) {
                        if (!mask.allowed(b, i, j, t, s)) {
                            continue;
                        }
                        double[] kj = AttentionReference.row(ka, k.shape(), b, hh, j);
                        double weight;
                        if (chunk == 0 || pos / chunk == j / chunk) {
                            double bias = p[4][hh * (2 * m - 1) + Math.max(1 - m, Math.min(m - 1, pos - j)) + m - 1];
                            double x = affineDot(qi, kj, p, 0, hh, d) / (chunk == 0 ? m : chunk) + bias;
                            weight = x > 0 ? x * x : 0;
                        } else {
                            weight = affineDot(qi, kj, p, 5, hh, d) / chunk;
                        }
                        for (int c = 0; c < dv; c++) {
                            out[((b * h + hh) * t + i) * dv + c] += weight * va[((b * h + hh) * s + j) * dv + c];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** (γ_q q + β_q)·(γ_k k + β_k) with the four scale-offsets starting at p[first]. */
    private static double affineDot(double[] qi, double[] kj, double[][] p, int first, int h, int d) {
        double dot = 0;
        for (int c = 0; c < d; c++) {
            int at = h * d + c;
            dot += (p[first][at] * qi[c] + p[first + 1][at]) * (p[first + 2][at] * kj[c] + p[first + 3][at]);
        }
        return dot;
    }

    @Property(tries = 40)
    void gauMatchesTheDefinitionUnderEveryMask(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 7) int t, @ForAll @IntRange(min = 0, max = 3) int extra, @ForAll @IntRange(min = 1, max = 4) int d,
            @ForAll @IntRange(min = 1, max = 12) int m, @ForAll @IntRange(min = 0, max = 3) int kind, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d), k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, 3);
        Tensor[] w = randomWeights(seed + 3, h, d, m, false);
        AttentionMask mask = AttentionReference.mask(kind, b, t, s, seed);
        double[] expected = reference(q, k, v, w, mask, m, 0);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable out = GauAttention.gau(Variable.constant(q.to(dtype)), Variable.constant(k.to(dtype)), Variable.constant(v.to(dtype)),
                    weights(w, dtype), mask, m);
            assertEquals(dtype, out.dtype());
            AttentionReference.assertClose(expected, out.data(), dtype == DType.F64 ? 1e-12 : 2e-5);
        }
    }

    /** FLASH: the chunked form (running sums, document restarts, KV-cache tails) and the T × S form equal the definition. */
    @Property(tries = 30)
    void flashChunkedEqualsFullAndTheDefinition(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra, @ForAll @IntRange(min = 1, max = 4) int d,
            @ForAll @IntRange(min = 1, max = 5) int chunk, @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra, m = 4;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d), k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, 3);
        Tensor[] w = randomWeights(seed + 3, h, d, m, true);
        AttentionMask mask = AttentionReference.mask(documents ? 3 : 1, b, t, s, seed);
        double[] expected = reference(q, k, v, w, mask, m, chunk);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable qv = Variable.constant(q.to(dtype)), kv = Variable.constant(k.to(dtype)), vv = Variable.constant(v.to(dtype));
            double tol = dtype == DType.F64 ? 1e-12 : 2e-5;
            AttentionReference.assertClose(expected, GauAttention.flashFull(qv, kv, vv, weights(w, dtype), mask, chunk).data(), tol);
            AttentionReference.assertClose(expected, GauAttention.flashChunked(qv, kv, vv, weights(w, dtype), mask, chunk).data(), tol);
        }
    }

    private static GauAttention randomised(GauAttention kernel, long seed) {
        int i = 0;
        for (var p : kernel.namedParameters().values()) {
            p.data().copyFromInPlace(AttentionReference.randn(seed + i++, 0.7, p.data().shape()).to(DType.F32));
        }
        return kernel;
    }

    /** Decoding through a growing KV cache equals the full forward for GAU and FLASH (chunks of 4 over T = 6), documents too. */
    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(randomised(new GauAttention(2, 4, 8), 7));
        CachedDecoding.assertCachedEqualsFull(randomised(new GauAttention(2, 4, 8, new GauAttention.Options(4)), 8));
    }

    @Test
    void finiteDifferenceGradientsIncludingTheWeights() {
        Tensor q = AttentionReference.randn(1, 1, 1, 2, 3, 3), k = AttentionReference.randn(2, 1, 1, 2, 4, 3);
        Tensor v = AttentionReference.randn(3, 1, 1, 2, 4, 2);
        for (int kind : new int[] {0, 3}) {
            AttentionMask mask = AttentionReference.mask(kind, 1, 3, 4, 13);
            Tensor[] w = randomWeights(4, 2, 3, 3, false);
            GradCheck.check(in -> GauAttention.gau(in[0], in[1], in[2], weights(in, 3), mask, 3), q, k, v, w[0], w[1], w[2], w[3], w[4]);
        }
        AttentionMask mask = AttentionReference.mask(3, 1, 3, 4, 13);
        Tensor[] w = randomWeights(5, 2, 3, 3, true);
        GradCheck.check(in -> GauAttention.flashChunked(in[0], in[1], in[2], weights(in, 3), mask, 2), q, k, v, w[0], w[1], w[2], w[3], w[4],
                w[5], w[6], w[7], w[8]);
    }

    @Test
    void parametersAndErrors() {
        assertEquals(Set.of("q_scale", "q_offset", "k_scale", "k_offset", "rel_pos_bias"), new GauAttention(2, 3, 8).namedParameters().keySet());
        GauAttention flash = new GauAttention(2, 3, 8, new GauAttention.Options(4));
        assertTrue(flash.namedParameters().keySet().containsAll(Set.of("lin_q_scale", "lin_k_offset", "rel_pos_bias")));
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3));
        String bidirectional = assertThrows(IllegalArgumentException.class, () -> flash.attend(x, x, x, AttentionMask.NONE)).getMessage();
        assertTrue(bidirectional.startsWith("GauAttention: FLASH mixed chunks are causal"), bidirectional);
        new GauAttention(2, 3, 8).attend(x, x, x, AttentionMask.NONE); // GAU itself is bidirectional too
        Variable wrongHeads = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 4, 3));
        assertThrows(IllegalArgumentException.class, () -> flash.attend(wrongHeads, wrongHeads, wrongHeads, AttentionMask.causalOnly()));
        var e = assertThrows(IllegalArgumentException.class, () -> new GauAttention.Options(-1));
        assertEquals("attention gau: option chunk must be >= 0 (0 = GAU, C = FLASH chunks), got -1", e.getMessage());
    }
}
