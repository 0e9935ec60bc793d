package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GmlpTest {

    static Gmlp gmlp(int c, int n, int f, boolean causal, long seed) {
        return MixerChecks.randomised(new Gmlp(c, new Gmlp.Options(n, f, causal), DType.F64, new Generator(seed)), seed + 1);
    }

    /** The gating unit by its equations in doubles: Z = GELU(XU), s = Z₁ ⊙ (W·LN(Z₂) + b), Y = sV, W lower-triangular if causal. */
    static double[] naive(Gmlp m, double[] x, int b, int t, int c, boolean causal) {
        Map<String, Tensor> p = m.stateDict();
        int f = p.get("fc2.weight").size(1);
        int n = p.get("gate.proj.weight").size(0);
        double[] z = Ref.linear(x, b * t, c, Ref.p(p, "fc1.weight"), Ref.p(p, "fc1.bias"), 2 * f);
        double[] u = new double[b * t * f];
        double[] v = new double[b * t * f];
        for (int r = 0; r < b * t; r++) {
            for (int k = 0; k < f; k++) {
                u[r * f + k] = Ref.act(Activation.GELU_ERF, z[r * 2 * f + k]);
                v[r * f + k] = Ref.act(Activation.GELU_ERF, z[r * 2 * f + f + k]);
            }
        }
        v = Ref.layerNorm(v, f, Ref.p(p, "gate.norm.weight"), Ref.p(p, "gate.norm.bias"), 1e-5);
        double[] w = Ref.p(p, "gate.proj.weight");
        double[] bias = Ref.p(p, "gate.proj.bias");
        double[] s = new double[b * t * f];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < f; k++) {
                    double acc = bias[i];
                    for (int j = 0; j < t; j++) {
                        if (!causal || j <= i) {
                            acc += w[i * n + j] * v[(r * t + j) * f + k];
                        }
                    }
                    s[(r * t + i) * f + k] = u[(r * t + i) * f + k] * acc;
                }
            }
        }
        return Ref.linear(s, b * t, f, Ref.p(p, "fc2.weight"), Ref.p(p, "fc2.bias"), c);
    }

    @Property(tries = 30)
    void matchesTheNaiveGatingUnit(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 0, max = 4) int f, @ForAll boolean causal) {
        Gmlp m = gmlp(c, 9, f, causal, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(m, Ref.d(x), b, t, c, causal), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    @Test
    void matchesTimmGatedMlpWithSpatialGatingUnit() throws Exception {
        Map<String, Tensor> g = MixerGolden.load("/golden/e2/gmlp.safetensors");
        Tensor x = g.get("x");
        Gmlp m = new Gmlp(x.size(2), new Gmlp.Options(x.size(1), g.get("fc2.weight").size(1), false), DType.F64, new Generator(0));
        MixerGolden.check(g, m, v -> m.forward(v, AttentionMask.NONE, null), 1e-10);
    }

    /** Causal form: the full forward == chunked decoding from the cached LN(Z₂) rows; the state grows by the chunk. */
    @Test
    void fullForwardEqualsChunkedDecoding() {
        MixerChecks.decodesInChunks(gmlp(5, 16, 3, true, 4), Ref.randn(5, 1, 2, 16, 5), 0, 3, seen -> seen); // the cache grows with the position (at most length rows)
    }

    @Test
    void eachDocumentRunUsesItsOwnPositions() {
        long[] ids = {0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        Tensor x = Ref.randn(6, 1, 2, 11, 4);
        MixerChecks.eachRunAlone(gmlp(4, 12, 3, true, 7), x, ids, true);
        MixerChecks.eachRunAlone(gmlp(4, 12, 3, false, 8), x, ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        for (boolean causal : new boolean[] {true, false}) {
            MixerChecks.gradientsMatch(gmlp(3, 7, 2, causal, 9), Variable.of(Ref.randn(10, 1, 2, 6, 3), true), causal);
        }
    }

    @Test
    void paperInitialisationMakesTheGateTheIdentityAndErrorsAreOneLine() {
        Gmlp m = new Gmlp(4, new Gmlp.Options(8, 0, true), DType.F64, new Generator(1));
        Map<String, Tensor> p = m.stateDict();
        assertTrue(java.util.Arrays.stream(Ref.p(p, "gate.proj.bias")).allMatch(v -> v == 1));
        assertTrue(java.util.Arrays.stream(Ref.p(p, "gate.proj.weight")).allMatch(v -> Math.abs(v) < 1e-5));
        assertTrue(MixerKind.Spec.of("gmlp", Map.of()).causal());
        assertFalse(MixerKind.Spec.of("gmlp", Map.of("causal", "false")).causal());
        assertEquals(new Gmlp.Options(512, 0, true), MixerKind.GMLP.defaultOptions());
        Variable x = Variable.constant(Ref.randn(1, 1, 1, 9, 4));
        var l = assertThrows(IllegalArgumentException.class, () -> m.forward(x, null, null));
        assertEquals("mixer gmlp: 9 positions exceed the mixer's length 8 (set the option length)", l.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> m.forward(x.narrow(1, 0, 3), AttentionMask.NONE, null));
        assertEquals("mixer gmlp: causal=true reads only the past; got a non-causal mask (causal=false mixes both ways)", d.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.GMLP.options(Map.of("length", "0")));
        assertEquals("mixer gmlp: need length >= 1 and hidden >= 0, got length=0 hidden=0", o.getMessage());
    }
}
