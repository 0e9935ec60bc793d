package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class VqAttentionTest {

    /** Random codes in [0, n) for (b, h, s) keys. */
    private static int[] randomCodes(long seed, int count, int n) {
        Generator g = new Generator(seed);
        int[] z = new int[count];
        for (int i = 0; i < count; i++) {
            z[i] = (int) g.nextLong(n);
        }
        return z;
    }

    /** K̂ = C[z] (b, h, s, d) in plain double. */
    private static Tensor quantized(Tensor codebook, int[] z, int b, int h, int s, int d) {
        double[] c = codebook.toDoubleArray();
        int n = codebook.size(1);
        double[] k = new double[b * h * s * d];
        for (int row = 0; row < b * h * s; row++) {
            System.arraycopy(c, (row / s % h * n + z[row]) * d, k, row * d, d);
        }
        return Tensor.of(k, b, h, s, d);
    }

    private static Variable c(Tensor t) {
        return Variable.constant(t);
    }

    /**
     * (a) The blockwise linear-time form equals the quadratic form over the quantized keys, in double
     * loops: out_i = Σ_{j≤i} exp(q_i·k̂_j/√D + B(i−j)) v_j / Σ_{j≤i} exp(…), B(δ) = b_h[δ] for δ &lt; L
     * else 0, under causal and causal + document masks, for block lengths that put most keys in the cache.
     */
    @Property(tries = 80)
    void blockwiseEqualsTheQuadraticForm(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 2) int h,
            @ForAll @IntRange(min = 1, max = 11) int t, @ForAll @IntRange(min = 0, max = 4) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 4) int blockLength,
            @ForAll @IntRange(min = 1, max = 5) int codes, @ForAll boolean documents, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor codebook = AttentionReference.randn(seed + 1, 1, h, codes, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        Tensor bias = AttentionReference.randn(seed + 3, 1, h, blockLength);
        int[] z = randomCodes(seed + 4, b * h * s, codes);
        Tensor kHat = quantized(codebook, z, b, h, s, d);
        AttentionMask mask = AttentionReference.mask(documents ? 3 : 1, b, t, s, seed);
        double[] bs = bias.toDoubleArray();
        double[] expected = AttentionReference.attendRows(q, kHat, v, mask, (hh, i, j, qi, kj) -> {
            int delta = s - t + i - j;
            return Math.exp(dot(qi, kj) / Math.sqrt(d) + (delta < blockLength ? bs[hh * blockLength + delta] : 0));
        });
        Tensor out = VqAttention.attend(c(q), c(kHat), c(v), c(codebook), z, c(bias), mask).data();
        AttentionReference.assertClose(expected, out, 1e-10);
    }

    /** With a zero bias it is softmax(Q K̂ᵀ/√D) V exactly, the dense attention over quantized keys. */
    @Test
    void zeroBiasIsSoftmaxOverQuantizedKeys() {
        int b = 2, h = 2, t = 13, d = 3;
        Tensor codebook = AttentionReference.randn(5, 1, h, 4, d);
        int[] z = randomCodes(6, b * h * t, 4);
        Variable kHat = c(quantized(codebook, z, b, h, t, d));
        Variable q = c(AttentionReference.randn(7, 1, b, h, t, d));
        Variable v = c(AttentionReference.randn(8, 1, b, h, t, 2));
        Variable out = VqAttention.attend(q, kHat, v, c(codebook), z, c(Tensor.zeros(DType.F64, h, 3)), AttentionMask.causalOnly());
        AttentionReference.assertClose(AttentionReference.naiveSoftmax(q, kHat, v, AttentionMask.causalOnly()).data(), out.data(), 1e-12);
    }

    /**
     * Keys older than the previous block reach the output only through the per-code sums: moving
     * their k̂ rows off the codebook changes nothing for the last block's queries (the cache reads C),
     * while moving a key of the previous block does (it is attended exactly).
     */
    @Test
    void olderBlocksGoThroughTheCodeCache() {
        int h = 1, t = 12, d = 3, l = 3;
        Tensor codebook = AttentionReference.randn(9, 1, h, 3, d);
        int[] z = randomCodes(10, h * t, 3);
        Tensor kHat = quantized(codebook, z, 1, h, t, d);
        Variable q = c(AttentionReference.randn(11, 1, 1, h, t, d));
        Variable v = c(AttentionReference.randn(12, 1, 1, h, t, d));
        Variable bias = c(AttentionReference.randn(13, 1, h, l));
        AttentionMask causal = AttentionMask.causalOnly();
        Tensor base = VqAttention.attend(q, c(kHat), v, c(codebook), z, bias, causal).data().narrow(2, 9, 3).contiguous();
        Tensor old = kHat.copy();
        old.narrow(2, 0, 6).copyFromInPlace(AttentionReference.randn(14, 1, 1, h, 6, d)); // blocks 0 and 1: cached for block 3
        Tensor same = VqAttention.attend(q, c(old), v, c(codebook), z, bias, causal).data().narrow(2, 9, 3).contiguous();
        AttentionReference.assertClose(base, same, 0);
        Tensor recent = kHat.copy();
        recent.narrow(2, 6, 1).copyFromInPlace(AttentionReference.randn(15, 1, 1, h, 1, d)); // block 2: exact for block 3
        Tensor moved = VqAttention.attend(q, c(recent), v, c(codebook), z, bias, causal).data().narrow(2, 9, 3).contiguous();
        double diff = 0;
        for (double x : moved.sub(base).abs().toDoubleArray()) {
            diff = Math.max(diff, x);
        }
        assertTrue(diff > 1e-6, "the previous block is attended exactly, max diff " + diff);
    }

    /** (b) F64 central differences of q, k̂, v, the codebook and the bias, codes fixed, with the cache in use (T 6, L 2). */
    @Test
    void gradientsWithTheAssignmentFixed() {
        int t = 6, d = 2, n = 2;
        for (int kind : new int[] {1, 3}) {
            int b = kind == 1 ? 1 : 2, h = 3 - b;
            int[] z = randomCodes(16 + kind, b * h * t, n);
            AttentionMask mask = AttentionReference.mask(kind, b, t, t, 17);
            GradCheck.check(in -> VqAttention.attend(in[0], in[1], in[2], in[3], z, in[4], mask),
                    AttentionReference.randn(18, 1, b, h, t, d), AttentionReference.randn(19, 1, b, h, t, d),
                    AttentionReference.randn(20, 1, b, h, t, 2), AttentionReference.randn(21, 1, h, n, d),
                    AttentionReference.randn(22, 1, h, 2));
        }
    }

    /**
     * The kernel quantizes to the nearest code and passes the output's gradient straight through to
     * the keys (the gradient the quadratic form gives k̂ in the exact window); the codebook learns
     * only from its loss, β‖k − sg(C[z])‖² + ‖sg(k) − C[z]‖², handed out once by regularization().
     */
    @Test
    void straightThroughKeysAndTheVqLoss() {
        int b = 1, h = 2, t = 5, d = 4;
        double beta = 0.25;
        VqAttention kernel = new VqAttention(h, d, new VqAttention.Options(3, 8, beta), new Generator(23)); // L ≥ T: all exact
        Tensor book = kernel.namedParameters().get("codebook").data();
        assertArrayEquals(new int[] {h, 3, d}, book.shape());
        Variable q = c(AttentionReference.randn(24, 1, b, h, t, d));
        Variable k = Variable.of(AttentionReference.randn(25, 0.5, b, h, t, d), true);
        Variable v = c(AttentionReference.randn(26, 1, b, h, t, 2));
        kernel.attend(q, k, v, AttentionMask.causalOnly()).square().sum().backward();
        int[] z = VqAttention.codes(k.data(), book.to(DType.F64));
        double[] ks = k.data().toDoubleArray(), cs = book.toDoubleArray();
        double sq = 0;
        for (int row = 0; row < b * h * t; row++) { // the chosen code is a nearest one
            double[] dist = new double[3];
            for (int code = 0; code < 3; code++) {
                for (int i = 0; i < d; i++) {
                    double diff = ks[row * d + i] - cs[((row / t % h) * 3 + code) * d + i];
                    dist[code] += diff * diff;
                }
            }
            for (double other : dist) {
                assertTrue(dist[z[row]] <= other, "code " + z[row] + " is not the nearest");
            }
            sq += dist[z[row]];
        }
        Variable kHat = Variable.of(quantized(book.to(DType.F64), z, b, h, t, d), true);
        VqAttention.attend(q, kHat, v, c(book.to(DType.F64)), z, c(Tensor.zeros(DType.F64, h, 8)), AttentionMask.causalOnly())
                .square().sum().backward();
        AttentionReference.assertClose(kHat.grad(), k.grad(), 1e-6);
        assertNull(kernel.namedParameters().get("codebook").grad(), "no gradient from attention reaches the codebook");
        Variable loss = kernel.regularization();
        assertEquals((beta + 1) * sq / (b * h * t * d), loss.item(), 1e-6);
        loss.backward();
        double g = 0;
        for (double x : kernel.namedParameters().get("codebook").grad().toDoubleArray()) {
            g += Math.abs(x);
        }
        assertTrue(g > 0, "the codebook loss trains the codebook");
        assertEquals(0.0, kernel.regularization().item(), 0, "a term is handed out once");
    }

    /** (c) One query at a time against the keys so far (a KV cache) gives the full rows, with and without documents. */
    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new VqAttention(2, 4, new VqAttention.Options(3, 2, 1e-4), new Generator(27)));
    }

    @Test
    void optionsByNameAndOneLineErrors() {
        assertEquals(new VqAttention.Options(VqAttention.CODEBOOK_SIZE, VqAttention.BLOCK_LENGTH, VqAttention.COMMITMENT),
                AttentionKind.VQ.defaultOptions());
        assertEquals(new VqAttention.Options(8, 4, 0.5),
                AttentionKind.VQ.options(Map.of("codebook_size", "8", "block_length", "4", "commitment", "0.5")));
        var e = assertThrows(IllegalArgumentException.class, () -> AttentionKind.VQ.options(Map.of("block_length", "0")));
        assertEquals("attention vq: option block_length must be >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VqAttention.Options(0, 4, 0));
        assertEquals("attention vq: option codebook_size must be in [1, 65536], got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new VqAttention.Options(4, 4, -1));
        assertEquals("attention vq: option commitment must be >= 0, got -1.0", e.getMessage());
        Variable x = c(AttentionReference.randn(28, 1, 1, 2, 3, 4));
        VqAttention kernel = new VqAttention(2, 4, new VqAttention.Options(3, 2, 0), new Generator(29));
        e = assertThrows(IllegalArgumentException.class, () -> kernel.attend(x, x, x, AttentionMask.NONE));
        assertEquals("VqAttention: Transformer-VQ is a causal decoder kernel; got causal=false, queryOffset 0 for T 3, S 3", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new VqAttention(3, 4, new VqAttention.Options(3, 2, 0), new Generator(30))
                .attend(x, x, x, AttentionMask.causalOnly()));
    }
}
