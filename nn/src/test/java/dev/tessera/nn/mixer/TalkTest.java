package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Ref;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class TalkTest {

    static Talk talk(int c, Talk.Options o, long seed) {
        Talk m = new Talk(c, o, DType.F64, new Generator(seed));
        m.stateDict().get("offset.bias").copyFromInPlace(Ref.randn(seed + 9, 1, o.heads()));
        return m;
    }

    /**
     * The window mean as a weighted sum of the inputs themselves (no prefix sums): weight 1 for
     * x_{t−⌊a⌋} … x_t, weight 1 − f for x_{t−⌊a⌋−1} with f the fractional part, zero before the row, over a + 1.
     */
    static double[] naive(Talk m, Talk.Options o, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = m.stateDict();
        int h = o.heads();
        double[] logits = Ref.linear(x, b * t, c, Ref.p(p, "offset.weight"), Ref.p(p, "offset.bias"), h);
        double[] mean = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double a = o.maxLeft() / (1 + Math.exp(-logits[(r * t + i) * h + ch / (c / h)]));
                    int whole = (int) Math.floor(a);
                    double frac = a - whole;
                    double s = 0;
                    for (int j = 0; j <= whole && i - j >= 0; j++) {
                        s += x[(r * t + i - j) * c + ch];
                    }
                    if (i - whole - 1 >= 0) {
                        s += frac * x[(r * t + i - whole - 1) * c + ch];
                    }
                    mean[(r * t + i) * c + ch] = s / (a + 1);
                }
            }
        }
        return Ref.linear(mean, b * t, c, Ref.p(p, "out_proj.weight"), Ref.p(p, "out_proj.bias"), c);
    }

    @Property(tries = 20)
    void matchesNaiveWindowMean(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 40) int t,
            @ForAll @IntRange(min = 1, max = 3) int perHead, @ForAll @IntRange(min = 1, max = 3) int heads,
            @ForAll @IntRange(min = 1, max = 25) int maxLeftTenths) {
        Talk.Options o = new Talk.Options(heads, maxLeftTenths * 0.7);
        Talk m = talk(heads * perHead, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, heads * perHead);
        close(naive(m, o, Ref.d(x), b, t, heads * perHead), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-10);
    }

    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        Talk m = talk(4, new Talk.Options(2, 5.5), 3);
        Tensor x = Ref.randn(4, 1, 2, 23, 4);
        double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
        int[] tokenByToken = new int[23];
        java.util.Arrays.fill(tokenByToken, 1);
        for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
            close(full, LruTest.decodeInChunks(m, x, chunks,
                    state -> assertArrayEquals(new int[] {2, 8, 4}, state.tensors()[0].shape(), "O(1): the last ceil(l_max) + 2 prefix sums")), 1e-11);
        }
    }

    @Test
    void documentIdsRestartTheWindow() {
        LruTest.restartsAtDocuments(talk(4, new Talk.Options(2, 6), 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}},
                "mixer talk");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(talk(4, new Talk.Options(2, 3.3), 7), Variable.of(Ref.randn(8, 1, 2, 6, 4), true));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new Talk.Options(1, 15), MixerKind.TALK.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.TALK.options(Map.of("max_left", "0")));
        assertEquals("mixer talk: need heads >= 1 and max_left > 0, got heads=1 max_left=0.0", o.getMessage());
        var w = assertThrows(IllegalArgumentException.class, () -> talk(6, new Talk.Options(4, 2), 1));
        assertEquals("mixer talk: width must be a positive multiple of heads=4, got 6", w.getMessage());
    }
}
