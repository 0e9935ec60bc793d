package dev.tessera.nn.attention;

import static dev.tessera.nn.attention.AttentionReference.dot;
import static dev.tessera.nn.attention.AttentionReference.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.DilatedAttention.Options;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class DilatedAttentionTest {

    /**
     * LongNet step by step, in doubles: per configuration (w, r) and head, the kept positions of each
     * segment, a softmax among them (under the mask), its output and denominator per kept query; then
     * the outputs of the configurations mixed by their denominators. A query no configuration keeps is 0.
     */
    static double[] longNet(Tensor q, Tensor k, Tensor v, AttentionMask mask, Options o) {
        int bsz = q.size(0), heads = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), dv = v.size(3);
        double[] qa = q.toDoubleArray(), ka = k.toDoubleArray(), va = v.toDoubleArray();
        double[] out = new double[bsz * heads * t * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] num = new double[t][dv]; // Σ_k s_k·O_k = Σ_k Σ_j e_j v_j
                double[] den = new double[t]; // Σ_k s_k
                for (int c = 0; c < o.segmentLengths().length; c++) {
                    int w = o.segmentLengths()[c], r = o.dilationRates()[c], offset = o.headOffsets() ? h % r : 0;
                    for (int start = 0; start < s; start += w) {
                        List<Integer> kept = new ArrayList<>(); // Q̃, K̃, Ṽ of this segment
                        for (int p = start + offset; p < Math.min(start + w, s); p += r) {
                            kept.add(p);
                        }
                        for (int i : kept) {
                            int ti = i - mask.queryOffset();
                            if (ti < 0 || ti >= t) {
                                continue; // a key position, not one of the queries
                            }
                            double sk = 0;
                            double[] ok = new double[dv];
                            for (int j : kept) {
                                if (mask.allowed(b, ti, j, t, s)) {
                                    double e = Math.exp(dot(row(qa, q.shape(), b, h, ti), row(ka, k.shape(), b, h, j)) / Math.sqrt(d));
                                    sk += e;
                                    for (int x = 0; x < dv; x++) {
                                        ok[x] += e * va[((b * heads + h) * s + j) * dv + x];
                                    }
                                }
                            }
                            for (int x = 0; x < dv && sk > 0; x++) {
                                num[ti][x] += sk * (ok[x] / sk); // α_k ∝ s_k times the configuration's output
                            }
                            den[ti] += sk;
                        }
                    }
                }
                for (int ti = 0; ti < t; ti++) {
                    for (int x = 0; x < dv; x++) {
                        out[((b * heads + h) * t + ti) * dv + x] = den[ti] == 0 ? 0 : num[ti][x] / den[ti];
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 60)
    void matchesLongNet(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 12) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 0, max = 3) int maskKind,
            @ForAll @IntRange(min = 1, max = 3) int configs, @ForAll @IntRange(min = 1, max = 6) int w0,
            @ForAll @IntRange(min = 1, max = 3) int r0, @ForAll boolean offsets, @ForAll @IntRange(min = 1, max = 1000) int seed) {
        List<String> segments = new ArrayList<>();
        List<String> rates = new ArrayList<>();
        for (int c = 0; c < configs; c++) {
            segments.add(String.valueOf(w0 << c)); // geometric, as in the paper
            rates.add(String.valueOf(Math.min(w0 << c, c == 0 ? 1 : r0 << (c - 1))));
        }
        Options o = new Options(String.join(",", segments), String.join(", ", rates), offsets);
        int s = t + extra;
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d + 1);
        AttentionMask mask = AttentionReference.mask(maskKind, b, t, s, seed);
        Variable out = new DilatedAttention(o).attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), mask);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(longNet(q, k, v, mask, o), out.data(), 1e-10);
    }

    /** The paper's Figure 3 shape: w = 4, r = 2 keeps rows 0, 2 of each segment for head 0 and 1, 3 for head 1; w = 8, r = 1 adds counts. */
    @Test
    void countsPerHeadAndConfiguration() {
        DilatedAttention one = new DilatedAttention(new Options("4", "2", true));
        assertEquals(1, one.count(0, 2, 0));
        assertEquals(0, one.count(0, 2, 1));
        assertEquals(0, one.count(0, 4, 2)); // another segment
        assertEquals(1, one.count(1, 3, 1));
        assertEquals(0, one.count(1, 2, 0)); // head 1 keeps odd rows
        assertEquals(0, new DilatedAttention(new Options("4", "2", false)).count(1, 3, 1));
        DilatedAttention two = new DilatedAttention(new Options("4,8", "2,1", true));
        assertEquals(2, two.count(0, 2, 0)); // both configurations
        assertEquals(1, two.count(0, 6, 1)); // only the w = 8 one
    }

    @Test
    void finiteDifferenceGradients() {
        SparsePatternReference.gradCheck(new DilatedAttention(new Options("2,4", "1,2", true)), 2, 5, 6, 0, 1, 2, 3);
    }

    @Test
    void cachedDecodingEqualsFullPass() {
        CachedDecoding.assertCachedEqualsFull(new DilatedAttention(new Options("2,4", "1,2", true)));
    }

    /** One segment covering everything at rate 1 is plain softmax attention. */
    @Test
    void oneDenseSegmentIsSoftmaxAttention() {
        var kernel = new DilatedAttention(new Options("7", "1", true));
        AttentionReference.assertSoftmaxUnderEveryMask(7, 7, (q, k, v, mask) -> kernel.attend(q, k, v, mask).data());
    }

    @Test
    void badOptionsAreOneLineErrors() {
        assertEquals("attention dilated: options segments and rates must list as many values, got '4' and '1,2'",
                assertThrows(IllegalArgumentException.class, () -> new Options("4", "1,2", true)).getMessage());
        assertEquals("attention dilated: each rate must be in [1, its segment] with segments >= 1, got segment 2 rate 3",
                assertThrows(IllegalArgumentException.class, () -> new Options("4,2", "1,3", true)).getMessage());
        assertEquals("attention dilated: option rates must be comma-separated integers, got '1;2'",
                assertThrows(IllegalArgumentException.class, () -> AttentionKind.DILATED.options(java.util.Map.of("rates", "1;2")))
                        .getMessage());
        var kernel = (DilatedAttention) AttentionKind.DILATED.create(MultiHeadAttention.Config.llama(8, 2, 2, 16).withKind(AttentionKind.DILATED),
                null);
        assertEquals(new Options("4,8,16", "1,2,4", true), kernel.options());
        assertEquals(new Options("4, 8", "1,2", true), new Options("4,8", "1, 2", true)); // one spelling
    }
}
