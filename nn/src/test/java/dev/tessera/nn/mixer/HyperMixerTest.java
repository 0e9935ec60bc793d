package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

class HyperMixerTest {

    static HyperMixer hyper(int c, int n, int d, boolean causal, long seed) {
        return MixerChecks.randomised(new HyperMixer(c, new HyperMixer.Options(n, d, causal), DType.F64, new Generator(seed)), seed + 1);
    }

    private static double[] hypernet(Map<String, Tensor> p, String pre, double[] z, int rows, int c, int d) {
        double[] h = Ref.linear(z, rows, c, Ref.p(p, pre + "fc1.weight"), Ref.p(p, pre + "fc1.bias"), d);
        for (int i = 0; i < h.length; i++) {
            h[i] = Ref.act(Activation.GELU_ERF, h[i]);
        }
        return Ref.linear(h, rows, d, Ref.p(p, pre + "fc2.weight"), Ref.p(p, pre + "fc2.bias"), d);
    }

    /** y_t = Σ_d W₂[t, d] GELU(Σ_s W₁[s, d] x_s) in doubles, the sum over s ≤ t when causal. */
    static double[] naive(HyperMixer m, double[] x, int b, int t, int c, int d, boolean causal) {
        Map<String, Tensor> p = m.stateDict();
        double[] pos = Ref.p(p, "positions");
        double[] z = new double[b * t * c];
        for (int i = 0; i < z.length; i++) {
            z[i] = x[i] + pos[i % (t * c)];
        }
        double[] w1 = hypernet(p, "hyper1.", z, b * t, c, d);
        double[] w2 = hypernet(p, "hyper2.", z, b * t, c, d);
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double out = 0;
                    for (int k = 0; k < d; k++) {
                        double sum = 0;
                        for (int s = 0; s < (causal ? i + 1 : t); s++) {
                            sum += w1[(r * t + s) * d + k] * x[(r * t + s) * c + ch];
                        }
                        out += w2[(r * t + i) * d + k] * Ref.act(Activation.GELU_ERF, sum);
                    }
                    y[(r * t + i) * c + ch] = out;
                }
            }
        }
        return y;
    }

    @Property(tries = 30)
    void matchesTheNaiveHyperMixer(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 8) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 4) int d, @ForAll boolean causal) {
        HyperMixer m = hyper(c, 8, d, causal, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(m, Ref.d(x), b, t, c, d, causal), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    /** Causal form: the full forward == chunked decoding from the prefix sum S, which stays (B, 1, D, C) (O(1)). */
    @Test
    void fullForwardEqualsChunkedDecodingFromAConstantState() {
        HyperMixer m = hyper(3, 16, 2, true, 4);
        Tensor x = Ref.randn(5, 1, 2, 16, 3);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        double[] chunked = LruTest.decodeInChunks(m, x, new int[] {5, 1, 1, 7, 2},
                state -> assertArrayEquals(new int[] {2, 1, 2, 3}, state.tensors()[0].shape()));
        LruTest.close(full, chunked, 1e-12);
    }

    @Test
    void eachDocumentRunIsMixedAlone() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        Tensor x = Ref.randn(6, 1, 2, 11, 3);
        MixerChecks.eachRunAlone(hyper(3, 12, 2, true, 7), x, ids, true);
        MixerChecks.eachRunAlone(hyper(3, 12, 2, false, 8), x, ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        for (boolean causal : new boolean[] {true, false}) {
            MixerChecks.gradientsMatch(hyper(2, 7, 2, causal, 9), Variable.of(Ref.randn(10, 1, 2, 6, 2), true), causal);
        }
    }

    @Test
    void oneLineErrors() {
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.HYPERMIXER.options(Map.of("length", "0")));
        assertEquals("mixer hypermixer: need length >= 1 and hidden >= 0, got length=0 hidden=0", o.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> hyper(2, 4, 2, true, 1).forward(Variable.constant(Ref.randn(1, 1, 1, 5, 2)),
                null, null));
        assertEquals("mixer hypermixer: 5 positions exceed the mixer's length 4 (set the option length)", l.getMessage());
    }
}
