package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class RwkvTest {

    private static Rwkv rwkv(int c, long seed) {
        Rwkv m = new Rwkv(c, new Rwkv.Options(), DType.F64, new Generator(seed));
        // random decay, bonus and mixes, so each is seen in its own place
        m.stateDict().get("time_decay").copyFromInPlace(Ref.randn(seed + 97, 1, c));
        m.stateDict().get("time_first").copyFromInPlace(Ref.randn(seed + 98, 1, c));
        m.stateDict().get("time_mix_value").copyFromInPlace(Ref.randn(seed + 99, 0.5, 1, 1, c));
        return m;
    }

    private static RwkvChannelMix channelMix(int c, int hidden, long seed) {
        RwkvChannelMix m = new RwkvChannelMix(c, hidden, DType.F64, new Generator(seed));
        m.stateDict().get("time_mix_receptance").copyFromInPlace(Ref.randn(seed + 99, 0.5, 1, 1, c));
        return m;
    }

    /** x'_t = x_{t−1} and μ x + (1 − μ) x' for row r, position s. */
    private static double[] shiftMix(double[] x, int r, int s, int t, int c, double[] mu) {
        double[] out = new double[c];
        for (int i = 0; i < c; i++) {
            double prev = s == 0 ? 0 : x[(r * t + s - 1) * c + i];
            out[i] = mu[i] * x[(r * t + s) * c + i] + (1 - mu[i]) * prev;
        }
        return out;
    }

    /** The paper's WKV as its defining sums of exponentials in doubles (no max trick), from the module's parameters. */
    static double[] naive(Rwkv m, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        double[] w = Ref.p(p, "time_decay");
        double[] u = Ref.p(p, "time_first");
        double[][] kv = new double[2][];
        double[] r = Ref.linear(mixAll(x, b, t, c, Ref.p(p, "time_mix_receptance")), b * t, c, Ref.p(p, "receptance.weight"), null, c);
        kv[0] = Ref.linear(mixAll(x, b, t, c, Ref.p(p, "time_mix_key")), b * t, c, Ref.p(p, "key.weight"), null, c);
        kv[1] = Ref.linear(mixAll(x, b, t, c, Ref.p(p, "time_mix_value")), b * t, c, Ref.p(p, "value.weight"), null, c);
        double[] gated = new double[b * t * c];
        for (int row = 0; row < b; row++) {
            for (int s = 0; s < t; s++) {
                for (int a = 0; a < c; a++) {
                    double num = 0;
                    double den = 0;
                    for (int i = 0; i <= s; i++) {
                        double k = kv[0][(row * t + i) * c + a];
                        double e = i == s ? Math.exp(u[a] + k) : Math.exp(-(s - 1 - i) * Math.exp(w[a]) + k);
                        num += e * kv[1][(row * t + i) * c + a];
                        den += e;
                    }
                    int at = (row * t + s) * c + a;
                    gated[at] = num / den / (1 + Math.exp(-r[at]));
                }
            }
        }
        return Ref.linear(gated, b * t, c, Ref.p(p, "output.weight"), null, c);
    }

    private static double[] mixAll(double[] x, int b, int t, int c, double[] mu) {
        double[] out = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                System.arraycopy(shiftMix(x, r, s, t, c, mu), 0, out, (r * t + s) * c, c);
            }
        }
        return out;
    }

    /** The channel mix's equations in doubles. */
    static double[] naiveChannelMix(RwkvChannelMix m, double[] x, int b, int t, int c, int f) {
        Map<String, Tensor> p = m.stateDict();
        double[] k = Ref.linear(mixAll(x, b, t, c, Ref.p(p, "time_mix_key")), b * t, c, Ref.p(p, "key.weight"), null, f);
        double[] r = Ref.linear(mixAll(x, b, t, c, Ref.p(p, "time_mix_receptance")), b * t, c, Ref.p(p, "receptance.weight"), null, c);
        for (int i = 0; i < k.length; i++) {
            k[i] = Math.max(k[i], 0) * Math.max(k[i], 0);
        }
        double[] v = Ref.linear(k, b * t, f, Ref.p(p, "value.weight"), null, c);
        for (int i = 0; i < v.length; i++) {
            v[i] /= 1 + Math.exp(-r[i]);
        }
        return v;
    }

    @Property(tries = 30)
    void parallelFormMatchesNaiveSums(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 5) int c) {
        Rwkv m = rwkv(c, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        double[] want = naive(m, Ref.d(x), b, t, c);
        close(want, Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
        close(want, Ref.d(m.recurrence(Variable.constant(x)).data()), 1e-10);
    }

    @Property(tries = 30)
    void channelMixMatchesNaive(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 13) int t, @ForAll @IntRange(min = 1, max = 5) int c, @ForAll @IntRange(min = 1, max = 7) int f) {
        RwkvChannelMix m = channelMix(c, f, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naiveChannelMix(m, Ref.d(x), b, t, c, f), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void parallelFormEqualsRecurrenceAndChunkedDecoding() {
        Rwkv m = rwkv(6, 3);
        Tensor x = Ref.randn(4, 1, 2, 23, 6);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(x)).data()), full, 1e-12);
        MixerForms.decodesLikeFull(m, x, full, 1e-12, state -> {
            assertEquals(4, state.tensors().length, "the state is the last input, num, den and the running maximum");
            for (Tensor s : state.tensors()) {
                assertArrayEquals(new int[] {2, 1, 6}, s.shape(), "O(1): (B, 1, C)");
            }
        });
        RwkvChannelMix cm = channelMix(6, 10, 5);
        double[] cmFull = Ref.d(cm.forward(Variable.constant(x), null, null).data());
        close(cmFull, LruTest.decodeInChunks(cm, x, new int[] {5, 1, 1, 7, 1, 8},
                state -> assertArrayEquals(new int[] {2, 1, 6}, state.tensors()[0].shape(), "the state is the last input")), 1e-12);
    }

    /** The running maximum keeps the recurrence finite where the plain sums overflow: keys of 800 give e^800 = inf in doubles. */
    @Test
    void stableForLargeKeys() {
        Rwkv m = rwkv(3, 9);
        m.stateDict().get("key.weight").copyFromInPlace(Tensor.eye(3, DType.F64).mul(400));
        Tensor x = Ref.randn(10, 2, 1, 9, 3);
        double[] parallel = Ref.d(m.forward(Variable.constant(x), null, null).data());
        double[] decoded = LruTest.decodeInChunks(m, x, new int[] {4, 1, 4}, state -> { });
        for (double v : parallel) {
            assertTrue(Double.isFinite(v), "parallel form overflowed");
        }
        close(parallel, decoded, 1e-9);
    }

    @Test
    void documentIdsRestartTheShiftAndTheSums() {
        LruTest.restartsAtDocuments(rwkv(4, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer rwkv");
        LruTest.restartsAtDocuments(channelMix(4, 5, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}},
                "rwkv channel mix");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Rwkv m = rwkv(3, 7);
        Variable x = Variable.of(Ref.randn(8, 1, 2, 6, 3), true);
        LruTest.gradientsMatch(m, x);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(x);
        ParamGradCheck.check(() -> m.recurrence(x), leaves);
        LruTest.gradientsMatch(channelMix(3, 4, 7), x);
    }

    @Test
    void optionsAndErrors() {
        assertEquals(MixerKind.RWKV, MixerKind.parse("rwkv"));
        assertEquals(new Rwkv.Options(), MixerKind.RWKV.defaultOptions());
        assertThrows(IllegalArgumentException.class, () -> MixerKind.RWKV.options(Map.of("state", "3")));
        var e = assertThrows(IllegalArgumentException.class, () -> rwkv(3, 1).forward(Variable.constant(Ref.randn(1, 1, 2, 4, 5)), null, null));
        assertEquals("mixer rwkv: input must be (B, T, 3) with T >= 1, got [2, 4, 5]", e.getMessage());
        var names = new java.util.TreeSet<>(rwkv(3, 1).stateDict().keySet());
        assertEquals("[key.weight, output.weight, receptance.weight, time_decay, time_first, time_mix_key, time_mix_receptance,"
                + " time_mix_value, value.weight]", names.toString());
    }
}
