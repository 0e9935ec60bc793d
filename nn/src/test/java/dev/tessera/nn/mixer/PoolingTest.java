package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PoolingTest {

    /** The window average minus the input in doubles, the window cut at the sequence ends. */
    static double[] naive(double[] x, int b, int t, int c, int k, boolean causal) {
        double[] y = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                int lo = Math.max(0, causal ? i - k + 1 : i - k / 2);
                int hi = Math.min(t - 1, causal ? i : i + k / 2);
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    for (int s = lo; s <= hi; s++) {
                        sum += x[(r * t + s) * c + ch];
                    }
                    y[(r * t + i) * c + ch] = sum / (hi - lo + 1) - x[(r * t + i) * c + ch];
                }
            }
        }
        return y;
    }

    @Property(tries = 40)
    void matchesTheNaiveWindowAverage(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 11) int t,
            @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 1, max = 3) int half, @ForAll boolean causal) {
        int k = causal ? half + 1 : 2 * half + 1;
        Tensor x = Ref.randn(seed, 1, b, t, c);
        Pooling m = new Pooling(c, new Pooling.Options(k, causal));
        AttentionMask mask = causal ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(Ref.d(x), b, t, c, k, causal), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-12);
    }

    @Test
    void matchesTimmMetaformerPooling() throws Exception {
        Map<String, Tensor> g = MixerGolden.load("/golden/e18/pooling.safetensors");
        Pooling m = new Pooling(g.get("x").size(2), new Pooling.Options(5, false));
        MixerGolden.check(g, m, x -> m.forward(x, AttentionMask.NONE, null), 1e-12);
    }

    /** The causal average decodes from the last k − 1 inputs (O(1)) and equals the full forward. */
    @Test
    void fullForwardEqualsChunkedDecodingFromAConstantState() {
        MixerChecks.decodesInChunks(new Pooling(3, new Pooling.Options(4, true)), Ref.randn(2, 1, 2, 16, 3), 0, 3, seen -> 3);
    }

    @Test
    void eachDocumentRunIsItsOwnSequence() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        Tensor x = Ref.randn(3, 1, 2, 11, 2);
        MixerChecks.eachRunAlone(new Pooling(2, new Pooling.Options(3, true)), x, ids, true);
        MixerChecks.eachRunAlone(new Pooling(2, new Pooling.Options(5, false)), x, ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(new Pooling(2, new Pooling.Options(3, true)), Variable.of(Ref.randn(4, 1, 2, 6, 2), true), true);
        MixerChecks.gradientsMatch(new Pooling(2, new Pooling.Options(3, false)), Variable.of(Ref.randn(5, 1, 2, 6, 2), true), false);
    }

    @Test
    void oneLineErrors() {
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.POOL.options(Map.of("pool_size", "4", "causal", "false")));
        assertEquals("mixer pool: need pool_size >= 2, odd when causal=false (a centred window), got pool_size=4 causal=false", o.getMessage());
        assertEquals(new Pooling.Options(3, true), MixerKind.POOL.defaultOptions());
    }
}
