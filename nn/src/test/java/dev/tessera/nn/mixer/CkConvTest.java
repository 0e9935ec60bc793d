package dev.tessera.nn.mixer;

import static dev.tessera.nn.mixer.LruTest.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

public class CkConvTest {

    static CkConv ck(int c, CkConv.Options o, long seed) {
        CkConv m = new CkConv(c, o, DType.F64, new Generator(seed));
        if (o.mask()) { // a mask centred away from lag 0, so both of its parameters matter
            m.stateDict().get("mask.mu").copyFromInPlace(Tensor.of(new double[] {0.2}));
            m.stateDict().get("mask.sigma").copyFromInPlace(Tensor.of(new double[] {0.4}));
        }
        return m;
    }

    /** The SIREN kernel at each lag, the Gaussian mask, the causal convolution and the pointwise layer, as loops in doubles. */
    static double[] naive(CkConv m, CkConv.Options o, double[] x, int b, int t, int c) {
        return naive(m.stateDict(), "", o, x, b, t, c);
    }

    /** {@link #naive(CkConv, CkConv.Options, double[], int, int, int)} of the layer whose parameters are {@code s}'s under {@code prefix}. */
    public static double[] naive(Map<String, Tensor> state, String prefix, CkConv.Options o, double[] x, int b, int t, int c) {
        Map<String, Tensor> p = new java.util.HashMap<>();
        state.forEach((name, v) -> {
            if (name.startsWith(prefix)) {
                p.put(name.substring(prefix.length()), v);
            }
        });
        int h = o.hidden();
        int taps = Math.min(t, o.length());
        double[][] k = new double[taps][];
        for (int j = 0; j < taps; j++) {
            double pos = o.length() == 1 ? 0 : j / (double) (o.length() - 1);
            double[] a = Ref.linear(new double[] {pos}, 1, 1, Ref.p(p, "kernel.l1.weight"), Ref.p(p, "kernel.l1.bias"), h);
            for (int i = 0; i < h; i++) {
                a[i] = Math.sin(o.omega() * a[i]);
            }
            a = Ref.linear(a, 1, h, Ref.p(p, "kernel.l2.weight"), Ref.p(p, "kernel.l2.bias"), h);
            for (int i = 0; i < h; i++) {
                a[i] = Math.sin(o.omega() * a[i]);
            }
            k[j] = Ref.linear(a, 1, h, Ref.p(p, "kernel.l3.weight"), Ref.p(p, "kernel.l3.bias"), c);
            if (o.mask()) {
                double z = (pos - Ref.p(p, "mask.mu")[0]) / Ref.p(p, "mask.sigma")[0];
                double gauss = Math.exp(-0.5 * z * z);
                for (int ch = 0; ch < c; ch++) {
                    k[j][ch] *= gauss < o.threshold() ? 0 : gauss; // FlexConv's cropping: no tap where the mask is below the threshold
                }
            }
        }
        double[] conv = new double[b * t * c];
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int j = 0; j < taps && j <= s; j++) {
                        acc += k[j][ch] * x[(r * t + s - j) * c + ch];
                    }
                    conv[(r * t + s) * c + ch] = acc;
                }
            }
        }
        double[] bias = Ref.p(p, "pointwise.bias");
        return Ref.linear(conv, b * t, c, Ref.p(p, "pointwise.weight"), bias, bias.length);
    }

    @Property(tries = 15)
    void matchesNaiveConvolution(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int b, @ForAll @IntRange(min = 1, max = 70) int t,
            @ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 1, max = 80) int length, @ForAll @IntRange(min = 1, max = 6) int hidden,
            @ForAll @IntRange(min = 1, max = 30) int omega, @ForAll boolean mask) {
        CkConv.Options o = new CkConv.Options(length, hidden, omega, mask);
        CkConv m = ck(c, o, seed);
        Tensor x = Ref.randn(seed + 1, 1, b, t, c);
        close(naive(m, o, Ref.d(x), b, t, c), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-9);
    }

    /** FlexConv's cropping against the naive masked kernel with every tap below the threshold zeroed, for random masks and thresholds. */
    @Property(tries = 15)
    void croppedKernelMatchesNaiveThresholdedMask(@ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int t,
            @ForAll @IntRange(min = 2, max = 50) int length, @ForAll @IntRange(min = 0, max = 100) int mu100,
            @ForAll @IntRange(min = 2, max = 60) int sigma100, @ForAll @IntRange(min = 1, max = 50) int threshold100) {
        CkConv.Options o = new CkConv.Options(length, 4, 7, true, threshold100 / 100.0);
        CkConv m = new CkConv(2, o, DType.F64, new Generator(seed));
        m.stateDict().get("mask.mu").copyFromInPlace(Tensor.of(new double[] {mu100 / 100.0}));
        m.stateDict().get("mask.sigma").copyFromInPlace(Tensor.of(new double[] {(seed % 2 == 0 ? 1 : -1) * sigma100 / 100.0}));
        Tensor x = Ref.randn(seed + 1, 1, 2, t, 2);
        close(naive(m, o, Ref.d(x), 2, t, 2), Ref.d(m.forward(Variable.constant(x), null, null).data()), 1e-9);
    }

    /**
     * FlexConv's cropping (threshold τ): a narrow mask leaves a short kernel (the lags where the Gaussian is ≥ τ), and the
     * output differs from the uncropped one (τ = 0) by at most Σ_c |W_p[c', c]| Σ_{dropped j ≤ t} τ |MLP_c(Δ_j)| |x_{t−j, c}|,
     * the taps it drops being the MLP's times a mask below τ.
     */
    @Test
    void croppedEqualsUncroppedWithinTheThresholdBound() {
        int l = 40;
        int c = 3;
        double tau = 0.1;
        CkConv cropped = narrow(new CkConv(c, new CkConv.Options(l, 6, 5, true, tau), DType.F64, new Generator(21)));
        CkConv whole = narrow(new CkConv(c, new CkConv.Options(l, 6, 5, true, 0), DType.F64, new Generator(21)));
        double[] mlp = Ref.d(new CkConv(c, new CkConv.Options(l, 6, 5, false), DType.F64, new Generator(21)).kernel(l).data()); // (C, L)
        int count = 0;
        while (count < l && Math.exp(-0.5 * Math.pow(count / (l - 1.0) / 0.15, 2)) >= tau) {
            count++;
        }
        int kept = count;
        assertEquals(13, kept, "the mask N(0, 0.15²) is >= 0.1 up to lag 12 of 39");
        assertEquals(kept, cropped.kernel(l).size(1), "the kernel is evaluated only where the mask exceeds the threshold");
        assertEquals(l, whole.kernel(l).size(1));
        int b = 2;
        int t = 50;
        Tensor x = Ref.randn(22, 1, b, t, c);
        double[] xs = Ref.d(x);
        double[] yc = Ref.d(cropped.forward(Variable.constant(x), null, null).data());
        double[] yw = Ref.d(whole.forward(Variable.constant(x), null, null).data());
        double[] wp = Ref.p(cropped.stateDict(), "pointwise.weight");
        double worst = 0;
        for (int r = 0; r < b; r++) {
            for (int s = 0; s < t; s++) {
                double[] dropped = new double[c];
                for (int ch = 0; ch < c; ch++) {
                    for (int j = kept; j < l && j <= s; j++) {
                        dropped[ch] += tau * Math.abs(mlp[ch * l + j]) * Math.abs(xs[(r * t + s - j) * c + ch]);
                    }
                }
                for (int out = 0; out < c; out++) {
                    double bound = 0;
                    for (int ch = 0; ch < c; ch++) {
                        bound += Math.abs(wp[out * c + ch]) * dropped[ch];
                    }
                    double diff = Math.abs(yc[(r * t + s) * c + out] - yw[(r * t + s) * c + out]);
                    assertTrue(diff <= bound + 1e-12, "position " + s + ": cropping changed the output by " + diff + " > bound " + bound);
                    worst = Math.max(worst, diff);
                }
            }
        }
        assertTrue(worst > 0, "the dropped taps were not zero: cropping must change something");
        int[] ones = new int[t];
        java.util.Arrays.fill(ones, 1);
        for (int[] chunks : new int[][] {ones, {20, 1, 1, 13, 15}}) {
            close(yc, LruTest.decodeInChunks(cropped, x, chunks, state -> assertTrue(state.tensors()[0].size(1) <= kept,
                    "decoding holds only the cropped window: " + state.tensors()[0].size(1) + " > " + kept)), 1e-11);
        }
    }

    /** A mask centred on lag 0 with σ = 0.15: FlexConv's narrow kernel. */
    private static CkConv narrow(CkConv m) {
        m.stateDict().get("mask.sigma").copyFromInPlace(Tensor.of(new double[] {0.15}));
        return m;
    }

    /** One MLP defines the kernel at any length: the first taps of a longer evaluation are the shorter kernel. */
    @Test
    void kernelIsAFunctionOfTheLagOnly() {
        CkConv m = ck(3, new CkConv.Options(50, 8, 10, true), 2);
        double[] shortK = Ref.d(m.kernel(7).data());
        double[] longK = Ref.d(m.kernel(50).data());
        for (int ch = 0; ch < 3; ch++) {
            for (int j = 0; j < 7; j++) {
                assertEquals(longK[ch * 50 + j], shortK[ch * 7 + j], 1e-15);
            }
        }
        assertEquals(3 * 50, Ref.d(m.kernel(80).data()).length, "capped at L taps");
    }

    @Test
    void fullEqualsTokenByTokenAndChunkedDecoding() {
        for (boolean mask : new boolean[] {false, true}) {
            CkConv m = ck(4, new CkConv.Options(12, 6, 5, mask), 3);
            Tensor x = Ref.randn(4, 1, 2, 23, 4);
            double[] full = Ref.d(m.forward(Variable.constant(x), null, null).data());
            int[] tokenByToken = new int[23];
            java.util.Arrays.fill(tokenByToken, 1);
            for (int[] chunks : new int[][] {{5, 1, 1, 7, 1, 8}, tokenByToken}) {
                close(full, LruTest.decodeInChunks(m, x, chunks, state -> assertTrue(state.tensors()[0].size(1) <= 12)), 1e-11);
            }
        }
    }

    @Test
    void documentIdsRestartTheConvolution() {
        LruTest.restartsAtDocuments(ck(4, new CkConv.Options(9, 4, 5, true), 11), Ref.randn(12, 1, 2, 17, 4), new int[][] {{0, 1, 6, 7, 13}, {0, 9}},
                "mixer ckconv");
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        LruTest.gradientsMatch(ck(2, new CkConv.Options(8, 3, 3, true), 7), Variable.of(Ref.randn(8, 1, 2, 6, 2), true));
        CkConv cropped = ck(2, new CkConv.Options(12, 3, 3, true, 0.2), 7);
        m(cropped, 0.5, 0.2); // the mask is >= 0.2 on [0.141, 0.859]: lags 2 … 9 of 11, both ends cropped
        assertEquals(10, cropped.kernel(12).size(1));
        LruTest.gradientsMatch(cropped, Variable.of(Ref.randn(8, 1, 2, 6, 2), true)); // lags 0, 1 zero, 2 … 5 evaluated
    }

    private static void m(CkConv m, double mu, double sigma) {
        m.stateDict().get("mask.mu").copyFromInPlace(Tensor.of(new double[] {mu}));
        m.stateDict().get("mask.sigma").copyFromInPlace(Tensor.of(new double[] {sigma}));
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new CkConv.Options(1024, 32, 30, true, 0.1), MixerKind.CKCONV.defaultOptions());
        assertEquals(new CkConv.Options(1024, 32, 30, true, 0.1), new CkConv.Options(1024, 32, 30, true), "FlexConv's threshold 0.1");
        var th = assertThrows(IllegalArgumentException.class, () -> MixerKind.CKCONV.options(Map.of("threshold", "1")));
        assertEquals("mixer ckconv: threshold must be in [0, 1) (0: no cropping), got 1.0", th.getMessage());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.CKCONV.options(Map.of("omega", "0")));
        assertEquals("mixer ckconv: need length >= 1, hidden >= 1 and omega > 0, got length=1024 hidden=32 omega=0.0", o.getMessage());
        assertEquals(java.util.Set.of("kernel.l1.weight", "kernel.l1.bias", "kernel.l2.weight", "kernel.l2.bias", "kernel.l3.weight",
                "kernel.l3.bias", "pointwise.weight", "pointwise.bias"), ck(3, new CkConv.Options(5, 4, 1, false), 1).stateDict().keySet(),
                "plain CKConv: no mask parameters");
    }
}
