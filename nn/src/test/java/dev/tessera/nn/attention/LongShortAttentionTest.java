package dev.tessera.nn.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

/** B20 Long-Short attention: reference, gradients of every input and weight, cached decoding, options. */
class LongShortAttentionTest {

    /** Seeded weights: W_P (H, D, r) and the two LayerNorms' γ, β (H·D), away from their init so a swap shows. */
    static Tensor[] weights(long seed, int h, int d, int r) {
        return new Tensor[] {AttentionReference.randn(seed, 1, h, d, r), AttentionReference.randn(seed + 1, 0.3, h * d).add(1),
                AttentionReference.randn(seed + 2, 0.3, h * d), AttentionReference.randn(seed + 3, 0.3, h * d).add(1),
                AttentionReference.randn(seed + 4, 0.3, h * d)};
    }

    private static LongShortAttention.Weights vars(Variable... w) {
        return new LongShortAttention.Weights(w[0], w[1], w[2], w[3], w[4]);
    }

    /** x[b][pos][h][d] of a contiguous (B, H, L, D) array, LayerNorm'ed over (h, d) per (b, pos) with γ, β (H·D). */
    static double[][][][] ln(double[][][][] x, int h, int d, double[] gamma, double[] beta) {
        int bs = x.length, l = x[0].length;
        double[][][][] y = new double[bs][l][h][d];
        for (int b = 0; b < bs; b++) {
            for (int p = 0; p < l; p++) {
                double mean = 0, var = 0;
                for (double[] row : x[b][p]) {
                    for (double e : row) {
                        mean += e / (h * d);
                    }
                }
                for (double[] row : x[b][p]) {
                    for (double e : row) {
                        var += (e - mean) * (e - mean) / (h * d);
                    }
                }
                for (int hh = 0; hh < h; hh++) {
                    for (int c = 0; c < d; c++) {
                        y[b][p][hh][c] = (x[b][p][hh][c] - mean) / Math.sqrt(var + LongShortAttention.LN_EPS) * gamma[hh * d + c]
                                + beta[hh * d + c];
                    }
                }
            }
        }
        return y;
    }

    /** (B, H, L, D) tensor → [b][pos][h][d]. */
    static double[][][][] byPosition(Tensor t) {
        int bs = t.size(0), h = t.size(1), l = t.size(2), d = t.size(3);
        double[] a = t.contiguous().toDoubleArray();
        double[][][][] y = new double[bs][l][h][d];
        for (int i = 0; i < a.length; i++) {
            y[i / (h * l * d)][i / d % l][i / (l * d) % h][i % d] = a[i];
        }
        return y;
    }

    /**
     * The naive reference: per (b, h), segment projections in plain loops (softmax over each
     * segment's positions of k·W_P), both LayerNorms, then one softmax over the allowed projected
     * and window keys.
     */
    static double[] reference(Tensor q, Tensor k, Tensor v, Tensor[] w, LongShortAttention.Options o, AttentionMask mask) {
        boolean causal = mask.causal();
        int offset = mask.queryOffset();
        int bs = q.size(0), h = q.size(1), t = q.size(2), d = q.size(3), s = k.size(2), r = o.rank();
        int len = causal ? o.segment() : s, segs = causal ? s / o.segment() : 1, g = segs * r;
        double[][][][] qa = byPosition(q), ka = byPosition(k), va = byPosition(v);
        double[] wp = w[0].toDoubleArray();
        double[][][][] kBar = new double[bs][g][h][d], vBar = new double[bs][g][h][d];
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int c = 0; c < segs; c++) {
                    for (int rho = 0; rho < r; rho++) {
                        double[] logit = new double[len];
                        double max = Double.NEGATIVE_INFINITY, z = 0;
                        for (int n = 0; n < len; n++) {
                            for (int e = 0; e < d; e++) {
                                logit[n] += ka[b][c * len + n][hh][e] * wp[(hh * d + e) * r + rho];
                            }
                            max = Math.max(max, logit[n]);
                        }
                        for (int n = 0; n < len; n++) {
                            z += Math.exp(logit[n] - max);
                        }
                        for (int n = 0; n < len; n++) {
                            double pn = Math.exp(logit[n] - max) / z;
                            for (int e = 0; e < d; e++) {
                                kBar[b][c * r + rho][hh][e] += pn * ka[b][c * len + n][hh][e];
                                vBar[b][c * r + rho][hh][e] += pn * va[b][c * len + n][hh][e];
                            }
                        }
                    }
                }
            }
        }
        double[] lw = w[1].toDoubleArray(), lb = w[2].toDoubleArray(), gw = w[3].toDoubleArray(), gb = w[4].toDoubleArray();
        double[][][][] kw = ln(ka, h, d, lw, lb), vw = ln(va, h, d, lw, lb), kg = ln(kBar, h, d, gw, gb),
                vg = ln(vBar, h, d, gw, gb);
        double[] out = new double[bs * h * t * d];
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < t; i++) {
                    int p = offset + i;
                    double total = 0;
                    double[] acc = new double[d];
                    for (int j = 0; j < g + s; j++) {
                        boolean global = j < g;
                        boolean ok = global ? !causal || j / r < p / o.segment()
                                : Math.abs(p - (j - g)) < o.window() && (!causal || j - g <= p) && mask.allowed(b, i, j - g, t, s);
                        for (int n = (j / r) * len; global && ok && mask.documentIds() != null && n < (j / r + 1) * len; n++) {
                            ok = mask.allowed(b, i, n, t, s); // the whole segment in the query's document
                        }
                        if (!ok) {
                            continue;
                        }
                        double[] key = global ? kg[b][j][hh] : kw[b][j - g][hh];
                        double[] val = global ? vg[b][j][hh] : vw[b][j - g][hh];
                        double weight = Math.exp(AttentionReference.dot(qa[b][i][hh], key) / Math.sqrt(d));
                        total += weight;
                        for (int e = 0; e < d; e++) {
                            acc[e] += weight * val[e];
                        }
                    }
                    for (int e = 0; e < d; e++) {
                        out[((b * h + hh) * t + i) * d + e] = acc[e] / total;
                    }
                }
            }
        }
        return out;
    }

    @Property(tries = 40)
    void matchesReference(@ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 3) int h,
            @ForAll @IntRange(min = 1, max = 9) int t, @ForAll @IntRange(min = 0, max = 3) int extra,
            @ForAll @IntRange(min = 1, max = 4) int d, @ForAll @IntRange(min = 1, max = 4) int window,
            @ForAll @IntRange(min = 1, max = 2) int rank, @ForAll @IntRange(min = 1, max = 3) int segment,
            @ForAll @IntRange(min = 0, max = 2) int maskKind, @ForAll @IntRange(min = 1, max = 4) int block,
            @ForAll @IntRange(min = 1, max = 1000) int seed) {
        int kind = maskKind == 2 ? 3 : maskKind; // none, causal, causal + documents (a document mask needs the causal form)
        int s = t + (kind != 0 ? extra : 0); // cached keys only with the causal mask (queries are the last T)
        var o = new LongShortAttention.Options(window, rank, segment);
        Tensor q = AttentionReference.randn(seed, 1, b, h, t, d);
        Tensor k = AttentionReference.randn(seed + 1, 1, b, h, s, d);
        Tensor v = AttentionReference.randn(seed + 2, 1, b, h, s, d);
        Tensor[] w = weights(seed + 3, h, d, rank);
        AttentionMask mask = AttentionReference.mask(kind, b, t, s, seed);
        Variable out = LongShortAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v),
                vars(Variable.constant(w[0]), Variable.constant(w[1]), Variable.constant(w[2]), Variable.constant(w[3]),
                        Variable.constant(w[4])), o, mask, block);
        assertEquals(DType.F64, out.dtype());
        AttentionReference.assertClose(reference(q, k, v, w, o, mask), out.data(), 1e-10);
    }

    /** q, k, v, W_P and both LayerNorms by central differences in F64, bidirectional and causal (two whole segments), two row blocks. */
    @Test
    void gradients() {
        var o = new LongShortAttention.Options(2, 2, 2);
        for (AttentionMask mask : new AttentionMask[] {AttentionMask.NONE, AttentionMask.causalOnly()}) {
            Tensor[] w = weights(9, 2, 2, 2);
            GradCheck.check(in -> LongShortAttention.attend(in[0], in[1], in[2], vars(in[3], in[4], in[5], in[6], in[7]), o, mask, 3),
                    AttentionReference.randn(1, 1, 1, 2, 4, 2), AttentionReference.randn(2, 1, 1, 2, 4, 2),
                    AttentionReference.randn(3, 1, 1, 2, 4, 2), w[0], w[1], w[2], w[3], w[4]);
        }
    }

    /** Causal: one query at a time over the keys so far gives the full forward's rows, with and without documents. */
    @Test
    void cachedDecodingEqualsFull() {
        CachedDecoding.assertCachedEqualsFull(new LongShortAttention(new LongShortAttention.Options(2, 2, 2), 2, 4, new Generator(3)));
    }

    /** The long-range keys matter: with a window of 1 a causal query still reads earlier segments through K̄, V̄. */
    @Test
    void projectedKeysCarryTheDistantPast() {
        var o = new LongShortAttention.Options(1, 1, 2);
        Tensor[] w = weights(5, 1, 3, 1);
        Tensor q = AttentionReference.randn(6, 1, 1, 1, 6, 3);
        Tensor k = AttentionReference.randn(7, 1, 1, 1, 6, 3);
        Tensor v = AttentionReference.randn(8, 1, 1, 1, 6, 3);
        Tensor changed = v.copy();
        changed.narrow(2, 0, 1).copyFromInPlace(AttentionReference.randn(9, 1, 1, 1, 1, 3));
        Variable[] wv = {Variable.constant(w[0]), Variable.constant(w[1]), Variable.constant(w[2]), Variable.constant(w[3]),
                Variable.constant(w[4])};
        Tensor a = LongShortAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(v), vars(wv), o,
                AttentionMask.causalOnly(), 2).data();
        Tensor c = LongShortAttention.attend(Variable.constant(q), Variable.constant(k), Variable.constant(changed), vars(wv), o,
                AttentionMask.causalOnly(), 2).data();
        double[] da = a.toDoubleArray(), dc = c.toDoubleArray();
        for (int p = 0; p < 6; p++) {
            double diff = 0;
            for (int e = 0; e < 3; e++) {
                diff = Math.max(diff, Math.abs(da[p * 3 + e] - dc[p * 3 + e]));
            }
            assertTrue(p == 0 || p >= 2 ? diff > 1e-9 : diff == 0, "position " + p + " reads v_0 only from segment 0 on: " + diff);
        }
    }

    @Test
    void parametersAndOneLineErrors() {
        var kernel = new LongShortAttention(new LongShortAttention.Options(4, 2, 3), 2, 4, new Generator(1));
        assertEquals(Set.of("dproj", "dual_ln_win.weight", "dual_ln_win.bias", "dual_ln_dproj.weight", "dual_ln_dproj.bias"),
                kernel.namedParameters().keySet());
        assertArrayEquals(new int[] {2, 4, 2}, kernel.namedParameters().get("dproj").shape());
        assertArrayEquals(new int[] {8}, kernel.namedParameters().get("dual_ln_win.weight").shape());
        var e = assertThrows(IllegalArgumentException.class, () -> new LongShortAttention.Options(0, 1, 1));
        assertEquals("attention long_short: options window, rank and segment must be >= 1, got window=0 rank=1 segment=1", e.getMessage());
        Variable q = Variable.constant(AttentionReference.randn(1, 1, 1, 2, 3, 4));
        var docs = assertThrows(IllegalArgumentException.class,
                () -> kernel.attend(q, q, q, new AttentionMask(false, Tensor.of(new long[] {0, 0, 1}, 1, 3), 0)));
        assertEquals("LongShortAttention: a document mask needs the causal form (the bidirectional projection mixes every position)",
                docs.getMessage());
        Variable q3 = Variable.constant(AttentionReference.randn(1, 1, 1, 3, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> kernel.attend(q3, q3, q3, AttentionMask.NONE));
        assertEquals(new LongShortAttention.Options(16, 1, 8), AttentionKind.LONG_SHORT.defaultOptions());
        assertEquals(new LongShortAttention.Options(4, 2, 3),
                AttentionKind.LONG_SHORT.options(java.util.Map.of("window", "4", "rank", "2", "segment", "3")));
    }
}
