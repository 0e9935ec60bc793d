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

class RetentionAttentionTest {

    /**
     * Retention in double loops from its definition: out_n = Σ_{m ≤ n, same document} γ_h^(n−m)
     * (q_n·k_m/√D) v_m, with γ_h = 1 − 2^(−5−h) written out here, not taken from the kernel.
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, AttentionMask mask) {
        int bsz = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * h * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int hh = 0; hh < h; hh++) {
                double gamma = 1 - 1 / Math.pow(2, 5 + hh);
                for (int i = 0; i < t; i++) {
                    double[] qi = AttentionReference.row(qa, q.shape(), b, hh, i);
                    for (int j = 0; j < s; j++) {
                        if (!mask.allowed(b, i, j, t, s)) {
                            continue;
                        }
                        double w = Math.pow(gamma, mask.queryOffset() + i - j) * AttentionReference.dot(qi, AttentionReference.row(ka, k.shape(), b, hh, j))
                                / Math.sqrt(d);
                        for (int c = 0; c < dv; c++) {
                            out[((b * h + hh) * t + i) * dv + c] += w * va[((b * h + hh) * s + j) * dv + c];
                        }
                    }
                }
            }
        }
        return out;
    }

    /** The parallel and the chunkwise form (any chunk, partial last chunks, documents, a KV-cache tail) equal the definition. */
    @Property(tries = 40)
    void parallelAndChunkwiseFormsMatchTheDefinition(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 5) int d, @ForAll @IntRange(min = 1, max = 6) int chunk,
            @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(documents ? 3 : 1, b, t, s, seed);
        double[] expected = reference(q, k, v, mask);
        RetentionAttention kernel = new RetentionAttention(h);
        for (DType dtype : new DType[] {DType.F64, DType.F32}) {
            Variable qv = Variable.constant(q.to(dtype)), kv = Variable.constant(k.to(dtype)), vv = Variable.constant(v.to(dtype));
            double tol = dtype == DType.F64 ? 1e-12 : 2e-5;
            Variable parallel = kernel.attend(qv, kv, vv, mask);
            assertEquals(dtype, parallel.dtype());
            AttentionReference.assertClose(expected, parallel.data(), tol);
            AttentionReference.assertClose(expected, kernel.chunkwise(qv, kv, vv, mask, chunk).data(), tol);
            AttentionReference.assertClose(expected, new RetentionAttention(h, new RetentionAttention.Options(chunk)).attend(qv, kv, vv, mask)
                    .data(), tol);
        }
    }

    /** The three forms agree: the recurrent steps equal the parallel and chunkwise outputs, and a cached tail too. */
    @Test
    void recurrentFormEqualsParallelAndChunkwise() {
        int b = 2, h = 3, t = 11, d = 4, dv = 3;
        for (RetentionAttention kernel : new RetentionAttention[] {new RetentionAttention(h), new RetentionAttention(h, new RetentionAttention.Options(4))}) {
            for (DType dtype : new DType[] {DType.F64, DType.F32}) {
                Tensor q = AttentionReference.randn(1, 1, b, h, t, d).to(dtype);
                Tensor k = AttentionReference.randn(2, 1, b, h, t, d).to(dtype);
                Tensor v = AttentionReference.randn(3, 1, b, h, t, dv).to(dtype);
                RetentionAttention.State state = kernel.newState(b, d, dv, dtype);
                RecurrentDecoding.assertStepsEqualFull(kernel, q, k, v, 6, dtype == DType.F64 ? 1e-12 : 1e-5,
                        (qi, ki, vi) -> kernel.step(state, qi, ki, vi));
            }
        }
    }

    /** Decoding through a growing KV cache (one query over the keys so far) equals the full forward, with documents too. */
    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new RetentionAttention(2));
        CachedDecoding.assertCachedEqualsFull(new RetentionAttention(2, new RetentionAttention.Options(4)));
    }

    @Test
    void decaysAreThePapers() {
        assertEquals(0.96875, RetentionAttention.gamma(0), 0);
        assertEquals(0.984375, RetentionAttention.gamma(1), 0);
        assertEquals(1 - 1.0 / 4096, RetentionAttention.gamma(7), 0);
    }

    @Test
    void finiteDifferenceGradients() {
        RetentionAttention kernel = new RetentionAttention(2);
        for (int kind : new int[] {1, 3}) {
            AttentionMask mask = AttentionReference.mask(kind, 2, 4, 5, 13);
            Tensor q = AttentionReference.randn(1, 1, 2, 2, 4, 3), k = AttentionReference.randn(2, 1, 2, 2, 5, 3);
            Tensor v = AttentionReference.randn(3, 1, 2, 2, 5, 2);
            GradCheck.check(in -> kernel.parallel(in[0], in[1], in[2], mask), q, k, v);
            GradCheck.check(in -> kernel.chunkwise(in[0], in[1], in[2], mask, 2), q, k, v);
        }
    }

    @Test
    void errors() {
        RetentionAttention kernel = new RetentionAttention(2);
        Variable x = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 4, 3));
        String bidirectional = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.NONE)).getMessage();
        assertEquals("RetentionAttention: retention is causal; got a non-causal mask", bidirectional);
        AttentionMask interleaved = new AttentionMask(true, Tensor.of(new long[] {0, 1, 0, 1}, 1, 4), 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> kernel.chunkwise(x, x, x, interleaved, 2)).getMessage()
                .contains("contiguous"));
        Variable tail = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 2, 3));
        String offset = assertThrows(IllegalArgumentException.class, () -> kernel.chunkwise(tail, x, x, AttentionMask.causalOnly(), 2)).getMessage();
        assertEquals("RetentionAttention: the chunked form needs the queries at the last T of S positions; got queryOffset 0 for T 2, S 4", offset);
        Variable wrongHeads = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 4, 3));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(wrongHeads, wrongHeads, wrongHeads, AttentionMask.causalOnly()));
        var e = assertThrows(IllegalArgumentException.class, () -> new RetentionAttention.Options(-1));
        assertEquals("attention retnet: option chunk must be >= 0 (0 = parallel form), got -1", e.getMessage());
    }
}
