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

class CkConvTest {

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
        Map<String, Tensor> p = m.stateDict();
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
                for (int ch = 0; ch < c; ch++) {
                    k[j][ch] *= Math.exp(-0.5 * z * z);
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
        return Ref.linear(conv, b * t, c, Ref.p(p, "pointwise.weight"), Ref.p(p, "pointwise.bias"), c);
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
    }

    @Test
    void optionsAndOneLineErrors() {
        assertEquals(new CkConv.Options(1024, 32, 30, true), MixerKind.CKCONV.defaultOptions());
        var o = assertThrows(IllegalArgumentException.class, () -> MixerKind.CKCONV.options(Map.of("omega", "0")));
        assertEquals("mixer ckconv: need length >= 1, hidden >= 1 and omega > 0, got length=1024 hidden=32 omega=0.0", o.getMessage());
        assertEquals(java.util.Set.of("kernel.l1.weight", "kernel.l1.bias", "kernel.l2.weight", "kernel.l2.bias", "kernel.l3.weight",
                "kernel.l3.bias", "pointwise.weight", "pointwise.bias"), ck(3, new CkConv.Options(5, 4, 1, false), 1).stateDict().keySet(),
                "plain CKConv: no mask parameters");
    }
}
