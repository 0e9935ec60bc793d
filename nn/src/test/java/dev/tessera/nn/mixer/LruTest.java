package dev.tessera.nn.mixer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.nn.ParamGradCheck;
import dev.tessera.nn.Ref;
import dev.tessera.nn.attention.AttentionMask;
import dev.tessera.nn.attention.KvCache;
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

class LruTest {

    private static Lru lru(int h, int n, long seed) {
        return new Lru(h, new Lru.Options(n, 0.5, 0.99, 2 * Math.PI), DType.F64, new Generator(seed));
    }

    /** The paper's recurrence with plain complex arithmetic in doubles, from the module's parameters. */
    static double[] naive(Lru m, double[] u, int b, int t, int h) {
        Map<String, Tensor> p = m.stateDict();
        double[] nu = Ref.p(p, "nu_log");
        double[] th = Ref.p(p, "theta_log");
        double[] ga = Ref.p(p, "gamma_log");
        double[] bRe = Ref.p(p, "B_re");
        double[] bIm = Ref.p(p, "B_im");
        double[] cRe = Ref.p(p, "C_re");
        double[] cIm = Ref.p(p, "C_im");
        double[] dd = Ref.p(p, "D");
        int n = nu.length;
        double[] y = new double[b * t * h];
        for (int r = 0; r < b; r++) {
            double[] xr = new double[n];
            double[] xi = new double[n];
            for (int s = 0; s < t; s++) {
                int row = (r * t + s) * h;
                for (int k = 0; k < n; k++) {
                    double mod = Math.exp(-Math.exp(nu[k]));
                    double lr = mod * Math.cos(Math.exp(th[k]));
                    double li = mod * Math.sin(Math.exp(th[k]));
                    double ur = 0;
                    double ui = 0;
                    for (int j = 0; j < h; j++) {
                        ur += bRe[k * h + j] * u[row + j];
                        ui += bIm[k * h + j] * u[row + j];
                    }
                    double g = Math.exp(ga[k]);
                    double nr = lr * xr[k] - li * xi[k] + g * ur;
                    double ni = lr * xi[k] + li * xr[k] + g * ui;
                    xr[k] = nr;
                    xi[k] = ni;
                }
                for (int o = 0; o < h; o++) {
                    double s2 = dd[o] * u[row + o];
                    for (int k = 0; k < n; k++) {
                        s2 += cRe[o * n + k] * xr[k] - cIm[o * n + k] * xi[k];
                    }
                    y[row + o] = s2;
                }
            }
        }
        return y;
    }

    static void close(double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), "element " + i);
        }
    }

    @Property(tries = 30)
    void parallelScanMatchesNaiveRecurrence(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b,
            @ForAll @IntRange(min = 1, max = 19) int t, @ForAll @IntRange(min = 1, max = 5) int h, @ForAll @IntRange(min = 1, max = 6) int n) {
        Lru m = lru(h, n, seed);
        Tensor u = Ref.randn(seed + 1, 1, b, t, h);
        close(naive(m, Ref.d(u), b, t, h), Ref.d(m.forward(Variable.constant(u), null, null).data()), 1e-10);
    }

    @Test
    void parallelScanEqualsRecurrenceAndChunkedDecoding() {
        Lru m = lru(6, 5, 3);
        Tensor u = Ref.randn(4, 1, 2, 23, 6);
        double[] full = Ref.d(m.forward(Variable.constant(u), null, null).data());
        close(Ref.d(m.recurrence(Variable.constant(u)).data()), full, 1e-12);
        close(full, decodeInChunks(m, u, new int[] {5, 1, 1, 7, 1, 8}, state -> { }), 1e-12);
    }

    /**
     * {@code m} run over {@code u} (B, T, C) in {@code chunks} from one recurrent state through
     * {@link KvCache#recurrent}, checking the cache length and {@code check} on the state after each
     * chunk and that a reset empties it; the concatenated outputs.
     */
    static double[] decodeInChunks(TokenMixer m, Tensor u, int[] chunks, java.util.function.Consumer<MixerState> check) {
        MixerState state = new MixerState();
        KvCache cache = KvCache.recurrent(state);
        List<Variable> parts = new ArrayList<>();
        int at = 0;
        try (var scope = GradMode.noGrad()) {
            for (int c : chunks) {
                parts.add(m.forward(Variable.constant(u.narrow(1, at, c)), AttentionMask.causalOnly(), MixerState.of(cache)));
                at += c;
                assertEquals(at, cache.length());
                check.accept(state);
            }
        }
        cache.reset();
        assertEquals(0, cache.length());
        assertEquals(null, state.tensors());
        return Ref.d(Variable.cat(1, parts.toArray(Variable[]::new)).data());
    }

    /** Packed rows: each document's outputs are those of the document alone (the state restarts at its first token). */
    @Test
    void documentIdsRestartTheRecurrence() {
        restartsAtDocuments(lru(4, 3, 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 13}, {0, 9}}, "mixer lru");
    }

    /** Central-difference checks of {@code m}'s gradients in its parameters and x (2, 6, C), without and with packed documents. */
    static <M extends dev.tessera.nn.Module & TokenMixer> void gradientsMatch(M m, Variable x) {
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(x);
        ParamGradCheck.check(() -> m.forward(x, null, null), leaves);
        AttentionMask docs = new AttentionMask(true, Tensor.of(new long[] {0, 0, 1, 1, 1, 2, 0, 0, 0, 0, 0, 1}, 2, 6), 0);
        ParamGradCheck.check(() -> m.forward(x, docs, null), leaves);
    }

    /**
     * Checks that {@code m} on rows packed with documents starting at {@code starts[b]} (alternating ids, so only
     * changes mark a start) gives each document's outputs as if it ran alone, and refuses a non-causal mask naming {@code who}.
     */
    static void restartsAtDocuments(TokenMixer m, Tensor x, int[][] starts, String who) {
        int bs = x.size(0);
        int t = x.size(1);
        long[] docs = new long[bs * t];
        for (int b = 0; b < bs; b++) {
            for (int i = 0; i < starts[b].length; i++) {
                int end = i + 1 < starts[b].length ? starts[b][i + 1] : t;
                for (int s = starts[b][i]; s < end; s++) {
                    docs[b * t + s] = i % 2;
                }
            }
        }
        Tensor packed = m.forward(Variable.constant(x), new AttentionMask(true, Tensor.of(docs, bs, t), 0), null).data();
        for (int b = 0; b < bs; b++) {
            for (int i = 0; i < starts[b].length; i++) {
                int end = i + 1 < starts[b].length ? starts[b][i + 1] : t;
                Tensor alone = x.narrow(0, b, 1).narrow(1, starts[b][i], end - starts[b][i]).contiguous();
                close(Ref.d(m.forward(Variable.constant(alone), null, null).data()),
                        Ref.d(packed.narrow(0, b, 1).narrow(1, starts[b][i], end - starts[b][i])), 1e-12);
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> m.forward(Variable.constant(x), AttentionMask.NONE, null));
        assertEquals(who + ": a token mixer is causal; got a non-causal mask", e.getMessage());
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Lru m = lru(3, 4, 7);
        Variable u = Variable.of(Ref.randn(8, 1, 2, 6, 3), true);
        List<Variable> leaves = new ArrayList<>(m.parameters());
        leaves.add(u);
        ParamGradCheck.check(() -> m.forward(u, null, null), leaves);
        AttentionMask docs = new AttentionMask(true, Tensor.of(new long[] {0, 0, 1, 1, 1, 2, 0, 0, 0, 0, 0, 1}, 2, 6), 0);
        ParamGradCheck.check(() -> m.forward(u, docs, null), leaves);
        ParamGradCheck.check(() -> m.recurrence(u), leaves);
    }

    @Test
    void ringInitialisationAndNormalisation() {
        Lru m = new Lru(8, new Lru.Options(64, 0.9, 0.999, Math.PI / 10), DType.F64, new Generator(1));
        double[] re = Ref.d(m.lambda()[0].data());
        double[] im = Ref.d(m.lambda()[1].data());
        double[] ga = Ref.d(m.stateDict().get("gamma_log"));
        for (int k = 0; k < re.length; k++) {
            double mod = Math.hypot(re[k], im[k]);
            assertTrue(mod >= 0.9 - 1e-12 && mod <= 0.999 + 1e-12, "|lambda| " + mod);
            assertTrue(Math.abs(Math.atan2(im[k], re[k])) <= Math.PI / 10 + 1e-12);
            assertEquals(Math.sqrt(1 - mod * mod), Math.exp(ga[k]), 1e-12);
        }
    }

    @Test
    void oneLineErrorsNameTheValidChoices() {
        var e = assertThrows(IllegalArgumentException.class, () -> MixerKind.parse("lstm"));
        assertEquals("mixer: unknown kind 'lstm' (kinds: " + MixerKind.names() + ")", e.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.LRU.options(Map.of("width", "3")));
        assertEquals("mixer lru: unknown option 'width' (options: state, r_min, r_max, max_phase)", o.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MixerKind.LRU.options(Map.of("r_max", "1.5")));
        assertEquals(new Lru.Options(0, 0.9, 0.999, 2 * Math.PI), MixerKind.LRU.defaultOptions());
        var k = assertThrows(IllegalStateException.class, () -> KvCache.recurrent(new MixerState()).append(null, null));
        assertTrue(k.getMessage().startsWith("KvCache: a recurrent"));
    }
}
