package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionKind;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class BranchformerTest {

    static Branchformer branchformer(int c, int heads, int f, int k, Branchformer.Merge merge, boolean causal, long seed) {
        return MixerChecks.randomised(new Branchformer(c, new Branchformer.Options(heads, f, k, merge, causal), DType.F64, new Generator(seed)),
                seed + 1);
    }

    /** The layer's equations in doubles: both branch norms, softmax attention (Ref.attention), the cgMLP with its depthwise convolution as a sum, the merge. */
    static double[] naive(Branchformer m, double[] x, int b, int t, int c, int heads, int f, int k, Branchformer.Merge merge, boolean causal) {
        Map<String, Tensor> p = m.stateDict();
        int rows = b * t;
        MultiHeadAttention.Config cfg = new MultiHeadAttention.Config(c, heads, heads, c / heads, true, RotaryEmbedding.Convention.HALF_SPLIT, 10000,
                512, null, 1e-6, 0, 0, DType.F64, AttentionKind.SOFTMAX);
        double[] ha = Ref.layerNorm(x, c, Ref.p(p, "norm_mha.weight"), Ref.p(p, "norm_mha.bias"), 1e-5);
        double[] yAtt = Ref.attention(cfg, ha, b, t, p, "attn.", causal, null);
        double[] hm = Ref.layerNorm(x, c, Ref.p(p, "norm_mlp.weight"), Ref.p(p, "norm_mlp.bias"), 1e-5);
        double[] z = Ref.linear(hm, rows, c, Ref.p(p, "cgmlp.channel_proj1.weight"), Ref.p(p, "cgmlp.channel_proj1.bias"), f);
        int half = f / 2;
        double[] z1 = new double[rows * half];
        double[] z2 = new double[rows * half];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < half; i++) {
                z1[r * half + i] = Ref.act(Activation.GELU_ERF, z[r * f + i]);
                z2[r * half + i] = Ref.act(Activation.GELU_ERF, z[r * f + half + i]);
            }
        }
        z2 = Ref.layerNorm(z2, half, Ref.p(p, "cgmlp.csgu.norm.weight"), Ref.p(p, "cgmlp.csgu.norm.bias"), 1e-5);
        double[] w = Ref.p(p, "cgmlp.csgu.conv.weight"); // (F/2, K)
        double[] bias = Ref.p(p, "cgmlp.csgu.conv.bias");
        int shift = causal ? 0 : (k - 1) / 2;
        double[] gated = new double[rows * half];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                for (int i = 0; i < half; i++) {
                    double acc = bias[i];
                    for (int j = 0; j < k; j++) {
                        int u = s - j + shift;
                        if (u >= 0 && u < t) {
                            acc += w[i * k + j] * z2[(r * t + u) * half + i];
                        }
                    }
                    gated[(r * t + s) * half + i] = z1[(r * t + s) * half + i] * acc;
                }
            }
        }
        double[] yMlp = Ref.linear(gated, rows, half, Ref.p(p, "cgmlp.channel_proj2.weight"), Ref.p(p, "cgmlp.channel_proj2.bias"), c);
        double[] merged;
        if (merge == Branchformer.Merge.CONCAT) {
            merged = new double[rows * 2 * c];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(yAtt, r * c, merged, r * 2 * c, c);
                System.arraycopy(yMlp, r * c, merged, r * 2 * c + c, c);
            }
        } else {
            double[] theta = Ref.p(p, "merge_weights");
            double wa = 1 / (1 + Math.exp(theta[1] - theta[0]));
            merged = new double[rows * c];
            for (int i = 0; i < merged.length; i++) {
                merged[i] = wa * yAtt[i] + (1 - wa) * yMlp[i];
            }
        }
        return Ref.linear(merged, rows, merged.length / rows, Ref.p(p, "merge_proj.weight"), Ref.p(p, "merge_proj.bias"), c);
    }

    @Property(tries = 25)
    void matchesTheNaiveBranches(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 7) int t,
            @ForAll @IntRange(min = 1, max = 2) int heads, @ForAll @IntRange(min = 1, max = 2) int f2, @ForAll @IntRange(min = 1, max = 5) int k,
            @ForAll boolean average, @ForAll boolean causal) {
        int c = 2 * heads;
        Branchformer.Merge merge = average ? Branchformer.Merge.AVERAGE : Branchformer.Merge.CONCAT;
        Branchformer m = branchformer(c, heads, 2 * f2, k, merge, causal, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(m, Ref.d(x), b, t, c, heads, 2 * f2, k, merge, causal),
                Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    /** Causal: the full forward == decoding in chunks of 5, 1, 1, 7, 2 from the held inputs, which grow by one row per position. */
    @Test
    void decodingFromTheHeldInputsEqualsTheFullForward() {
        MixerChecks.decodesInChunks(branchformer(4, 2, 6, 3, Branchformer.Merge.CONCAT, true, 3), Ref.randn(4, 1, 2, 16, 4), 0, 4, n -> n);
        MixerChecks.decodesInChunks(branchformer(4, 1, 4, 5, Branchformer.Merge.AVERAGE, true, 5), Ref.randn(6, 1, 2, 16, 4), 0, 4, n -> n);
    }

    /** Causal: no output reads a later input (a change at the last position moves only the last output). */
    @Test
    void theCausalFormReadsOnlyThePast() {
        Branchformer m = branchformer(4, 2, 4, 3, Branchformer.Merge.CONCAT, true, 7);
        Tensor x = Ref.randn(8, 1, 1, 6, 4);
        Tensor y = m.forward(Variable.constant(x), null, null).data();
        Tensor moved = x.copy();
        moved.narrow(1, 5, 1).copyFromInPlace(moved.narrow(1, 5, 1).add(Ref.randn(9, 1, 1, 1, 4))); // not a uniform shift: the norms remove those
        Tensor d = m.forward(Variable.constant(moved), null, null).data().sub(y).abs();
        assertEquals(0, Ref.d(d.narrow(1, 0, 5).sum())[0], 0);
        assertTrue(Ref.d(d.narrow(1, 5, 1).sum())[0] > 1e-6);
    }

    @Test
    void eachDocumentRunIsMixedAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(branchformer(4, 2, 4, 3, Branchformer.Merge.CONCAT, false, 3), Ref.randn(4, 1, 2, 11, 4), ids, false);
        MixerChecks.eachRunAlone(branchformer(4, 2, 4, 3, Branchformer.Merge.AVERAGE, true, 5), Ref.randn(6, 1, 2, 11, 4), ids, true);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(branchformer(2, 1, 2, 3, Branchformer.Merge.CONCAT, true, 5), Variable.of(Ref.randn(6, 1, 2, 6, 2), true), true);
        MixerChecks.gradientsMatch(branchformer(2, 1, 2, 3, Branchformer.Merge.AVERAGE, false, 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true),
                false);
    }

    @Test
    void optionsAndOneLineErrors() {
        assertTrue(MixerKind.Spec.of("branchformer", Map.of()).causal());
        assertFalse(MixerKind.Spec.of("branchformer", Map.of("causal", "false")).causal());
        var e = assertThrows(IllegalArgumentException.class, () -> branchformer(6, 4, 4, 3, Branchformer.Merge.CONCAT, true, 1));
        assertEquals("mixer branchformer: 4 heads do not divide the width 6", e.getMessage());
        var c = assertThrows(IllegalArgumentException.class, () -> branchformer(4, 2, 4, 3, Branchformer.Merge.CONCAT, true, 1)
                .forward(Variable.constant(Ref.randn(1, 1, 1, 3, 4)), AttentionMask.NONE, null));
        assertEquals("mixer branchformer: causal=true reads only the past; got a non-causal mask (causal=false mixes both ways)", c.getMessage());
    }
}
