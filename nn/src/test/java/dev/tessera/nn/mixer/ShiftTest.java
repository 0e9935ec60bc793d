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

class ShiftTest {

    static Shift shift(int c, Shift.Mode mode, boolean causal, long seed) {
        return MixerChecks.randomised(new Shift(c, new Shift.Options(mode, causal), DType.F64, new Generator(seed)), seed + 1);
    }

    /** Row t − d of v (B·T rows of c), 0 outside 0 … T−1. */
    private static double at(double[] v, int r, int t, int big, int c, int k, int d) {
        int s = t - d;
        return s < 0 || s >= big ? 0 : v[(r * big + s) * c + k];
    }

    /** Both forms by their equations in doubles. */
    static double[] naive(Shift m, double[] x, int b, int t, int c, Shift.Mode mode, boolean causal) {
        Map<String, Tensor> p = m.stateDict();
        if (mode == Shift.Mode.TOKEN) {
            double[] mu = Ref.p(p, "time_mix");
            double[] mixed = new double[b * t * c];
            for (int r = 0; r < b; r++) {
                for (int i = 0; i < t; i++) {
                    for (int k = 0; k < c; k++) {
                        double xi = x[(r * t + i) * c + k];
                        mixed[(r * t + i) * c + k] = xi + mu[k] * (at(x, r, i, t, c, k, 1) - xi);
                    }
                }
            }
            return Ref.linear(mixed, b * t, c, Ref.p(p, "output.weight"), null, c);
        }
        double[] h = Ref.linear(x, b * t, c, Ref.p(p, "fc1.weight"), Ref.p(p, "fc1.bias"), c);
        for (int i = 0; i < h.length; i++) {
            h[i] = Ref.act(Activation.GELU_ERF, h[i]);
        }
        double[] g = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < c; k++) {
                    g[(r * t + i) * c + k] = at(h, r, i, t, c, k, k < c / 2 ? 1 : causal ? 2 : -1);
                }
            }
        }
        return Ref.linear(g, b * t, c, Ref.p(p, "fc2.weight"), Ref.p(p, "fc2.bias"), c);
    }

    @Property(tries = 30)
    void matchesTheNaiveShifts(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 9) int t,
            @ForAll @IntRange(min = 2, max = 6) int c, @ForAll boolean spatial, @ForAll boolean causal) {
        Shift.Mode mode = spatial ? Shift.Mode.SPATIAL : Shift.Mode.TOKEN;
        boolean dir = causal || !spatial;
        Shift m = shift(c, mode, dir, seed);
        Tensor x = Ref.randn(seed + 2, 1, b, t, c);
        AttentionMask mask = dir ? AttentionMask.causalOnly() : AttentionMask.NONE;
        LruTest.close(naive(m, Ref.d(x), b, t, c, mode, dir), Ref.d(m.forward(Variable.constant(x), mask, null).data()), 1e-10);
    }

    /**
     * fla's token_shift_ref gives Δ = x_{t−1} − x_t: the token mode with μ = 1 and W_o = I gives x_{t−1}, so Δ is its
     * output minus x; batched, and one packed row whose cu_seqlens become document ids.
     */
    @Test
    void matchesFlaTokenShiftRef() throws Exception {
        Map<String, Tensor> g = MixerGolden.load("/golden/e4/token_shift.safetensors");
        Shift m = new Shift(5, new Shift.Options(Shift.Mode.TOKEN, true), DType.F64, new Generator(0));
        m.namedParameters().get("time_mix").data().fillInPlace(1);
        m.namedParameters().get("output.weight").data().copyFromInPlace(Tensor.eye(5, DType.F64));
        long[] cu = g.get("cu_seqlens").toLongArray();
        long[] ids = new long[(int) cu[cu.length - 1]];
        for (int d = 0; d + 1 < cu.length; d++) {
            java.util.Arrays.fill(ids, (int) cu[d], (int) cu[d + 1], d % 2);
        }
        for (String suffix : new String[] {"", "_varlen"}) {
            AttentionMask mask = suffix.isEmpty() ? null : new AttentionMask(true, Tensor.of(ids, 1, ids.length), 0);
            Variable x = Variable.of(g.get("x" + suffix), true);
            Variable delta = m.forward(x, mask, null).sub(x);
            Ref.assertClose(g.get("out" + suffix), delta.data(), 1e-14);
            delta.backward(g.get("grad_output" + suffix));
            Ref.assertClose(g.get("grad.x" + suffix), x.grad(), 1e-14);
        }
    }

    /** The causal forms decode from an O(1) state (the last one or two rows) and equal the full forward. */
    @Test
    void fullForwardEqualsChunkedDecodingFromAConstantState() {
        MixerChecks.decodesInChunks(shift(4, Shift.Mode.TOKEN, true, 3), Ref.randn(4, 1, 2, 16, 4), 0, 4, seen -> 1);
        MixerChecks.decodesInChunks(shift(4, Shift.Mode.SPATIAL, true, 5), Ref.randn(6, 1, 2, 16, 4), 0, 4, seen -> 2);
    }

    @Test
    void eachDocumentRunShiftsInZerosAtItsEnds() {
        long[] ids = {0, 0, 0, 1, 2, 2, 2, 2, 3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0};
        Tensor x = Ref.randn(7, 1, 2, 11, 4);
        MixerChecks.eachRunAlone(shift(4, Shift.Mode.TOKEN, true, 8), x, ids, true);
        MixerChecks.eachRunAlone(shift(4, Shift.Mode.SPATIAL, true, 9), x, ids, true);
        MixerChecks.eachRunAlone(shift(4, Shift.Mode.SPATIAL, false, 10), x, ids, false);
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        MixerChecks.gradientsMatch(shift(3, Shift.Mode.TOKEN, true, 11), Variable.of(Ref.randn(12, 1, 2, 6, 3), true), true);
        for (boolean causal : new boolean[] {true, false}) {
            MixerChecks.gradientsMatch(shift(3, Shift.Mode.SPATIAL, causal, 13), Variable.of(Ref.randn(14, 1, 2, 6, 3), true), causal);
        }
    }

    @Test
    void oneLineErrors() {
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.SHIFT.options(Map.of("causal", "false")));
        assertEquals("mixer shift: mode token is causal (RWKV's token shift); an encoder takes mode spatial with causal=false, got mode=token"
                + " causal=false", o.getMessage());
        assertEquals(new Shift.Options(Shift.Mode.SPATIAL, false), MixerKind.SHIFT.options(Map.of("mode", "spatial", "causal", "false")));
    }
}
