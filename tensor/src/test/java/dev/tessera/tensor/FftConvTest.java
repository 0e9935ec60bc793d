package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** The causal long convolution, both paths and its gradients, against the defining sums in double. */
class FftConvTest {

    static double[] values(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    /** y[b,c,t] = Σ_{j ≤ t, j < K} k[c,j] x[b,c,t−j]. */
    static double[] naive(double[] x, double[] k, int b, int c, int l, int kl) {
        double[] y = new double[b * c * l];
        for (int bi = 0; bi < b; bi++) {
            for (int ci = 0; ci < c; ci++) {
                for (int t = 0; t < l; t++) {
                    double acc = 0;
                    for (int j = 0; j < kl && j <= t; j++) {
                        acc += k[ci * kl + j] * x[(bi * c + ci) * l + t - j];
                    }
                    y[(bi * c + ci) * l + t] = acc;
                }
            }
        }
        return y;
    }

    /** The gradients of Σ g ⊙ y by the definition: each y term's partials added one by one. */
    static double[][] naiveBackward(double[] g, double[] x, double[] k, int b, int c, int l, int kl) {
        double[] dx = new double[x.length];
        double[] dk = new double[k.length];
        for (int bi = 0; bi < b; bi++) {
            for (int ci = 0; ci < c; ci++) {
                for (int t = 0; t < l; t++) {
                    double gt = g[(bi * c + ci) * l + t];
                    for (int j = 0; j < kl && j <= t; j++) {
                        dx[(bi * c + ci) * l + t - j] += gt * k[ci * kl + j];
                        dk[ci * kl + j] += gt * x[(bi * c + ci) * l + t - j];
                    }
                }
            }
        }
        return new double[][] {dx, dk};
    }

    static void close(double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * (1 + Math.abs(want[i])), "index " + i + ": " + want[i] + " vs " + got[i]);
        }
    }

    @Property(tries = 25)
    void fftAndDirectMatchTheSum(@ForAll long seed, @ForAll @IntRange(min = 1, max = 3) int b, @ForAll @IntRange(min = 1, max = 5) int c,
            @ForAll @IntRange(min = 1, max = 70) int l, @ForAll @IntRange(min = 1, max = 80) int kl) {
        double[] x = values(seed, b * c * l);
        double[] k = values(seed + 1, c * kl);
        Tensor xt = Tensor.of(x, b, c, l);
        Tensor kt = Tensor.of(k, c, kl);
        double[] want = naive(x, k, b, c, l, kl);
        close(want, FftConv.fft(xt, kt).toDoubleArray(), 1e-12);
        close(want, FftConv.direct(xt, kt).toDoubleArray(), 1e-12);
        close(want, xt.causalConv(kt).toDoubleArray(), 1e-12);
        double[] g = values(seed + 2, b * c * l);
        double[][] wantGrad = naiveBackward(g, x, k, b, c, l, kl);
        Tensor gt = Tensor.of(g, b, c, l);
        for (Tensor[] got : new Tensor[][] {FftConv.fftBackward(gt, xt, kt), FftConv.directBackward(gt, xt, kt),
                FftConv.causalConvBackward(gt, xt, kt)}) {
            close(wantGrad[0], got[0].toDoubleArray(), 1e-12);
            close(wantGrad[1], got[1].toDoubleArray(), 1e-12);
            assertArrayEquals(new int[] {c, kl}, got[1].shape());
        }
    }

    /** Long lines through the FFT (odd batch-channel counts leave one unpaired line), strided inputs, F32 in and out. */
    @Test
    void longStridedAndF32() {
        int b = 3;
        int c = 3;
        int l = 600;
        double[] x = values(5, b * c * l);
        double[] k = values(6, c * l);
        double[] want = naive(x, k, b, c, l, l);
        Tensor xt = Tensor.of(x, b, l, c).transpose(1, 2); // strided (B, C, L) view of the same numbers in another order
        double[] xPermuted = xt.contiguous().toDoubleArray();
        want = naive(xPermuted, k, b, c, l, l);
        close(want, FftConv.fft(xt, Tensor.of(k, c, l)).toDoubleArray(), 1e-11);
        Tensor y32 = Tensor.of(xPermuted, b, c, l).to(DType.F32).causalConv(Tensor.of(k, c, l).to(DType.F32));
        assertEquals(DType.F32, y32.dtype());
        close(want, y32.toDoubleArray(), 2e-4);
    }

    @Test
    void oneLineErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2, 3, 4).causalConv(Tensor.zeros(DType.F32, 2, 4)));
        assertEquals("causalConv: expects x (B, C, L) and kernel (C, K) with L, K >= 1, got [2, 3, 4] and [2, 4]", e.getMessage());
        var g = assertThrows(IllegalArgumentException.class,
                () -> FftConv.causalConvBackward(Tensor.zeros(DType.F32, 2, 3, 5), Tensor.zeros(DType.F32, 2, 3, 4), Tensor.zeros(DType.F32, 3, 4)));
        assertEquals("causalConv backward: gradient [2, 3, 5] does not match the output (2, 3, 4)", g.getMessage());
    }
}
