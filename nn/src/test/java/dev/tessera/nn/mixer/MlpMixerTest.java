package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

class MlpMixerTest {

    static MlpMixer mixer(int c, int n, int hidden, boolean causal, long seed) {
        return MixerChecks.randomised(new MlpMixer(c, new MlpMixer.Options(n, hidden, causal), DType.F64, new Generator(seed)), seed + 1);
    }

    /** U[:, t, c] = Σ_j W₂[t, j] GELU(Σ_s W₁[j, s] X[s, c] + b₁[j]) + b₂[t] in doubles, the sums over s ≤ j ≤ t when causal. */
    static double[] naive(MlpMixer m, double[] x, int b, int t, int c, boolean causal) {
        Map<String, Tensor> p = m.stateDict();
        int d = p.get("fc1.weight").size(0);
        int n = p.get("fc1.weight").size(1);
        double[] w1 = Ref.p(p, "fc1.weight");
        double[] b1 = Ref.p(p, "fc1.bias");
        double[] w2 = Ref.p(p, "fc2.weight");
        double[] b2 = Ref.p(p, "fc2.bias");
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int k = 0; k < c; k++) {
                double[] h = new double[d];
                for (int j = 0; j < d; j++) {
                    double acc = b1[j];
                    for (int s = 0; s < t; s++) {
                        acc += !causal || s <= j ? w1[j * n + s] * x[(r * t + s) * c + k] : 0;
                    }
                    h[j] = Ref.act(Activation.GELU_ERF, acc);
                }
                for (int i = 0; i < t; i++) {
                    double acc = b2[i];
                    for (int j = 0; j < d; j++) {
                        acc += !causal || j <= i ? w2[i * d + j] * h[j] : 0;
                    }
                    y[(r * t + i) * c + k] = acc;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesTheNaiveTokenMlp(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 8) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 6) int hidden, @ForAll boolean causal) {
        MlpMixer m = mixer(c, 8, causal ? 0 : hidden, causal, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(m, Ref.d(x), b, t, c, causal), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    @Test
    void matchesTimmMixerBlockTokenMlp() throws Exception {
        Map<String, Tensor> g = MixerGolden.load("/golden/e3/mixer.safetensors");
        Tensor x = g.get("x");
        MlpMixer m = new MlpMixer(x.size(2), new MlpMixer.Options(x.size(1), g.get("fc1.weight").size(0), false), DType.F64, new Generator(0));
        MixerGolden.check(g, m, v -> m.forward(v, AttentionMask.NONE, null), 1e-10);
    }

    /** Causal form: the full forward == chunked decoding from the cached inputs and hidden rows. */
    @Test
    void fullForwardEqualsChunkedDecoding() {
        MixerChecks.decodesInChunks(mixer(3, 16, 0, true, 4), Ref.randn(5, 1, 2, 16, 3), 1, 3, seen -> seen); // the cache grows with the position (at most length rows)
    }

    @Test
    void eachDocumentRunGoesThroughTheMlpAlone() {
        long[] ids = {0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        Tensor x = Ref.randn(6, 1, 2, 11, 3);
        MixerChecks.eachRunAlone(mixer(3, 12, 0, true, 7), x, ids, true);
        MixerChecks.eachRunAlone(mixer(3, 12, 5, false, 8), x, ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        for (boolean causal : new boolean[] {true, false}) {
            MixerChecks.gradientsMatch(mixer(2, 7, causal ? 0 : 4, causal, 9), Variable.of(Ref.randn(10, 1, 2, 6, 2), true), causal);
        }
    }

    @Test
    void oneLineErrors() {
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.MLP_MIXER.options(Map.of("length", "8", "hidden", "4")));
        assertEquals("mixer mlp_mixer: need length >= 1, hidden >= 0, and hidden 0 or = length when causal, got length=8 hidden=4 causal=true",
                o.getMessage());
        MlpMixer m = mixer(2, 4, 3, false, 1);
        var l = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Ref.randn(1, 1, 1, 5, 2)), null, null));
        assertEquals("mixer mlp_mixer: 5 positions exceed the mixer's length 4 (set the option length)", l.getMessage());
        var d = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(Ref.randn(1, 1, 1, 3, 2)), null, new MixerState()));
        assertEquals("mixer mlp_mixer: mixes the whole sequence both ways; it cannot decode token by token from a state", d.getMessage());
    }
}
