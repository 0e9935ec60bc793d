package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SparseMlpTest {

    static SparseMlp smlp(int c, int n, int f, int experts, long seed) {
        return MixerChecks.randomised(new SparseMlp(c, new SparseMlp.Options(n, f, experts), DType.F64, new Generator(seed)), seed + 1);
    }

    /**
     * sMoE by its equations in doubles: Z = GELU(XU), hidden unit k of Z₁ and Z₂ in chunk e = k / (F/E), which expert e
     * normalises over its chunk and mixes with its lower-triangular Wₑ over positions ≤ t, gating Z₁; Y = sV.
     */
    static double[] naive(SparseMlp m, double[] x, int b, int t, int c, int experts) {
        Map<String, Tensor> p = m.stateDict();
        int f = p.get("fc2.weight").size(1);
        int w = f / experts;
        int n = p.get("experts.0.proj.weight").size(0);
        double[] z = Ref.linear(x, b * t, c, Ref.p(p, "fc1.weight"), Ref.p(p, "fc1.bias"), 2 * f);
        double[] s = new double[b * t * f];
        for (int e = 0; e < experts; e++) {
            String pre = "experts." + e + ".";
            double[] v = new double[b * t * w];
            for (int r = 0; r < b * t; r++) {
                for (int k = 0; k < w; k++) {
                    v[r * w + k] = Ref.act(Activation.GELU_ERF, z[r * 2 * f + f + e * w + k]);
                }
            }
            v = Ref.layerNorm(v, w, Ref.p(p, pre + "norm.weight"), Ref.p(p, pre + "norm.bias"), 1e-5);
            double[] wt = Ref.p(p, pre + "proj.weight");
            double[] bias = Ref.p(p, pre + "proj.bias");
            for (int r = 0; r < b; r++) {
                for (int i = 0; i < t; i++) {
                    for (int k = 0; k < w; k++) {
                        double acc = bias[i];
                        for (int j = 0; j <= i; j++) {
                            acc += wt[i * n + j] * v[(r * t + j) * w + k];
                        }
                        s[(r * t + i) * f + e * w + k] = Ref.act(Activation.GELU_ERF, z[(r * t + i) * 2 * f + e * w + k]) * acc;
                    }
                }
            }
        }
        return Ref.linear(s, b * t, f, Ref.p(p, "fc2.weight"), Ref.p(p, "fc2.bias"), c);
    }

    @Property(tries = 30)
    void matchesTheNaiveSparseGatingUnits(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 1, max = 3) int experts, @ForAll @IntRange(min = 1, max = 3) int w) {
        SparseMlp m = smlp(c, 9, experts * w, experts, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = seed % 2 == 0 ? AttentionMask.causalOnly() : null;
        LruTest.close(naive(m, Ref.d(x), b, t, c, experts), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    /** One expert is gMLP's causal spatial gating unit (the paper's dense block): the same weights give the same outputs. */
    @Test
    void oneExpertIsTheCausalGmlpGatingUnit() {
        Gmlp dense = GmlpTest.gmlp(4, 10, 6, true, 11);
        SparseMlp sparse = new SparseMlp(4, new SparseMlp.Options(10, 6, 1), DType.F64, new Generator(12));
        Map<String, Tensor> renamed = new HashMap<>();
        dense.stateDict().forEach((k, v) -> renamed.put(k.replace("gate.", "experts.0."), v));
        sparse.loadStateDict(renamed, true);
        Variable x = Variable.constant(Ref.randn(13, 1, 2, 10, 4));
        LruTest.close(Ref.d(dense.forward(x, null, null).data()), Ref.d(sparse.forward(x, null, null).data()), 1e-12);
    }

    /** Expert e reads only chunk e of Z₂: changing expert 1's spatial weight moves only the gated units of chunk 1 (fc2 the identity). */
    @Test
    void eachChunkGoesToItsOwnExpert() {
        SparseMlp m = smlp(6, 8, 6, 3, 14);
        Map<String, Tensor> p = m.stateDict();
        p.get("fc2.weight").copyFromInPlace(Tensor.eye(6, DType.F64));
        p.get("fc2.bias").fillInPlace(0);
        Variable x = Variable.constant(Ref.randn(15, 1, 1, 8, 6));
        double[] before = Ref.d(m.forward(x, null, null).data()); // the gated units [s₁ s₂ s₃], (1, 8, 6)
        p.get("experts.1.proj.weight").copyFromInPlace(Ref.randn(16, 1, 8, 8));
        double[] after = Ref.d(m.forward(x, null, null).data());
        for (int i = 0; i < before.length; i++) {
            boolean chunk1 = i % 6 / 2 == 1;
            assertEquals(chunk1, Math.abs(before[i] - after[i]) > 1e-9, "gated unit " + i % 6 + " at position " + i / 6);
        }
    }

    /** The full forward == decoding token by token == in uneven chunks from the cached LN(Z₂) rows; the state grows by the chunk. */
    @Test
    void fullForwardEqualsTokenByTokenAndChunkedDecoding() {
        SparseMlp m = smlp(5, 20, 6, 3, 4);
        Tensor x = Ref.randn(5, 1, 2, 20, 5);
        double[] full = Ref.d(m.forward(Variable.constant(x), AttentionMask.causalOnly(), null).data());
        MixerForms.decodesLikeFull(m, x, full, 1e-12, state -> assertEquals(2, state.tensors()[0].size(0)));
        MixerChecks.decodesInChunks(smlp(5, 16, 6, 2, 5), Ref.randn(6, 1, 2, 16, 5), 0, 6, seen -> seen); // at most length rows
    }

    @Test
    void eachDocumentRunUsesItsOwnPositions() {
        long[] ids = {0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        MixerChecks.eachRunAlone(smlp(4, 12, 4, 2, 7), Ref.randn(6, 1, 2, 11, 4), ids, true);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(smlp(3, 7, 4, 2, 9), Variable.of(Ref.randn(10, 1, 2, 6, 3), true), true);
    }

    @Test
    void paperInitialisationDefaultsAndOneLineErrors() {
        SparseMlp m = new SparseMlp(8, new SparseMlp.Options(8, 0, 4), DType.F64, new Generator(1));
        Map<String, Tensor> p = m.stateDict();
        for (int e = 0; e < 4; e++) {
            assertTrue(java.util.Arrays.stream(Ref.p(p, "experts." + e + ".proj.bias")).allMatch(v -> v == 1));
            assertTrue(java.util.Arrays.stream(Ref.p(p, "experts." + e + ".proj.weight")).allMatch(v -> Math.abs(v) < 1e-5));
            assertArrayEquals(new int[] {2}, p.get("experts." + e + ".norm.weight").shape(), "each expert normalises its chunk F/E");
        }
        assertEquals(new SparseMlp.Options(512, 0, 4), MixerKind.SMLP.defaultOptions());
        assertTrue(MixerKind.Spec.of("smlp", Map.of()).causal());
        Variable x = Variable.constant(Ref.randn(1, 1, 1, 9, 8));
        var l = assertThrows(IllegalArgumentException.class, () -> m.forward(x, null, null));
        assertEquals("mixer smlp: 9 positions exceed the mixer's length 8 (set the option length)", l.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> m.forward(x.narrow(1, 0, 3), AttentionMask.NONE, null));
        assertEquals("mixer smlp: a token mixer is causal; got a non-causal mask", d.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> new SparseMlp(6, new SparseMlp.Options(8, 0, 4), DType.F64, new Generator(1)));
        assertEquals("mixer smlp: the gate width 6 does not split into 4 equal expert chunks", s.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.SMLP.options(Map.of("experts", "0")));
        assertEquals("mixer smlp: need length >= 1, hidden >= 0 and experts >= 1, got length=512 hidden=0 experts=0", o.getMessage());
    }
}
