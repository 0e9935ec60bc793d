package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.apache.commons.math3.complex.Complex;
import org.apache.commons.math3.transform.DftNormalization;
import org.apache.commons.math3.transform.FastFourierTransformer;
import org.apache.commons.math3.transform.TransformType;
import org.junit.jupiter.api.Test;

/**
 * FFTs against a naive O(n²) DFT in double. Rounding error of an FFT grows like
 * {@code eps * log n * ||x||}, so tolerances are {@code C * eps * log2(2n) * sum|x|}: an absolute
 * bound per output bin that stays tight for small n and does not flake for large n.
 */
class FftTest {
    private static final int[] SPECIAL_LENGTHS = {1, 2, 3, 4, 5, 7, 8, 16, 17, 31, 64, 97, 127, 128, 199, 200, 256, 257};

    /** Naive DFT: sign -1 forward (unscaled), +1 inverse (scaled by 1/n). Angles reduced mod n for accuracy. */
    static double[][] dft(double[] re, double[] im, int sign) {
        int n = re.length;
        double[] outRe = new double[n];
        double[] outIm = new double[n];
        for (int k = 0; k < n; k++) {
            double sr = 0;
            double si = 0;
            for (int j = 0; j < n; j++) {
                double angle = sign * 2 * Math.PI * (((long) j * k) % n) / n;
                double c = Math.cos(angle);
                double s = Math.sin(angle);
                sr += re[j] * c - im[j] * s;
                si += re[j] * s + im[j] * c;
            }
            outRe[k] = sign > 0 ? sr / n : sr;
            outIm[k] = sign > 0 ? si / n : si;
        }
        return new double[][] {outRe, outIm};
    }

    static double tolerance(double eps, int n, double[]... parts) {
        double sum = 0;
        for (double[] p : parts) {
            for (double v : p) {
                sum += Math.abs(v);
            }
        }
        return 8 * eps * (Math.log(2.0 * n) / Math.log(2)) * Math.max(sum, 1);
    }

    static double[] randomValues(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return v;
    }

    /** Checks rfft of every line along {@code dim} of a random [a, n, b] tensor (built non-contiguous) against the DFT. */
    private static void checkRfft(int n, long seed, DType dtype) {
        SplittableRandom r = new SplittableRandom(seed);
        int a = 1 + r.nextInt(2);
        int b = 1 + r.nextInt(3);
        double[] v = randomValues(r, a * n * b);
        Tensor x = Tensor.of(v, b, n, a).to(dtype).permute(2, 1, 0); // shape [a, n, b], strides reversed
        Tensor spec = Fft.rfft(x, -2);
        int bins = n / 2 + 1;
        assertArrayEquals(new int[] {a, bins, b, 2}, spec.shape());
        assertEquals(dtype == DType.F64 ? DType.F64 : DType.F32, spec.dtype());
        double[] got = spec.toDoubleArray();
        double eps = dtype == DType.F64 ? 0x1p-52 : 0x1p-23;
        for (int i = 0; i < a; i++) {
            for (int k2 = 0; k2 < b; k2++) {
                double[] line = new double[n];
                for (int j = 0; j < n; j++) {
                    line[j] = x.getDouble(i, j, k2);
                }
                double[][] ref = dft(line, new double[n], -1);
                double tol = tolerance(eps, n, line);
                for (int k = 0; k < bins; k++) {
                    int at = ((i * bins + k) * b + k2) * 2;
                    assertEquals(ref[0][k], got[at], tol, "re n=" + n + " k=" + k);
                    assertEquals(ref[1][k], got[at + 1], tol, "im n=" + n + " k=" + k);
                }
            }
        }
    }

    @Property(tries = 60)
    void rfftMatchesNaiveDft(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
        checkRfft(n, seed, DType.F64);
    }

    @Test
    void rfftSpecialLengths() {
        for (int n : SPECIAL_LENGTHS) {
            checkRfft(n, n, DType.F64);
            checkRfft(n, n + 1, DType.F32);
        }
        checkRfft(12, 3, DType.BF16);
        checkRfft(9, 3, DType.I32);
    }

    /**
     * Each line is transformed on its own: bitwise the line's rfft alone, whatever its neighbours
     * hold (an inf or NaN, or values 1e300 times larger whose rounding error would swamp it).
     */
    @Test
    void rfftLinesDoNotLeakIntoEachOther() {
        for (int n : new int[] {8, 7}) {
            double[] line = randomValues(new SplittableRandom(n), n);
            double[] alone = Fft.rfft(Tensor.of(line), 0).toDoubleArray();
            for (double other : new double[] {Double.POSITIVE_INFINITY, Double.NaN, 1e300}) {
                double[] neighbour = randomValues(new SplittableRandom(n + 1), n);
                for (int j = 0; j < n; j++) {
                    neighbour[j] *= Double.isFinite(other) ? other : 1;
                }
                if (!Double.isFinite(other)) {
                    neighbour[2] = other;
                }
                for (int row = 0; row < 2; row++) {
                    double[] both = new double[2 * n];
                    System.arraycopy(line, 0, both, row * n, n);
                    System.arraycopy(neighbour, 0, both, (1 - row) * n, n);
                    double[] got = Fft.rfft(Tensor.of(both, 2, n), 1).select(0, row).toDoubleArray();
                    assertArrayEquals(alone, got, "n=" + n + " neighbour " + other + " in row " + (1 - row));
                }
            }
        }
    }

    @Property(tries = 60)
    void fftAndIfftMatchNaiveDft(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] re = randomValues(r, n);
        double[] im = randomValues(r, n);
        double[] inter = new double[2 * n];
        for (int j = 0; j < n; j++) {
            inter[2 * j] = re[j];
            inter[2 * j + 1] = im[j];
        }
        Tensor z = Tensor.of(inter, 1, n, 2).transpose(0, 1); // shape [n, 1, 2]: transform complex dim 0
        double tol = tolerance(0x1p-52, n, re, im);
        for (int sign : new int[] {-1, 1}) {
            Tensor out = sign < 0 ? Fft.fft(z, 0) : Fft.ifft(z, -2);
            assertArrayEquals(new int[] {n, 1, 2}, out.shape());
            double[] got = out.toDoubleArray();
            double[][] ref = dft(re, im, sign);
            for (int k = 0; k < n; k++) {
                assertEquals(ref[0][k], got[2 * k], tol, "re n=" + n + " sign=" + sign);
                assertEquals(ref[1][k], got[2 * k + 1], tol, "im n=" + n + " sign=" + sign);
            }
        }
        assertArrayEquals(inter, Fft.ifft(Fft.fft(z, 0), 0).toDoubleArray(), tolerance(0x1p-52, n, re, im) / n + 1e-15);
    }

    @Property(tries = 60)
    void irfftInvertsRfft(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = randomValues(r, 3 * n);
        Tensor x = Tensor.of(v, n, 3);
        Tensor spec = Fft.rfft(x, 0);
        Tensor back = Fft.irfft(spec.permute(1, 0, 2).contiguous().permute(1, 0, 2), n, 0); // non-contiguous spectrum
        assertArrayEquals(new int[] {n, 3}, back.shape());
        assertArrayEquals(v, back.toDoubleArray(), tolerance(0x1p-52, n, v) / Math.sqrt(n));
        if (n % 2 == 0 && n > 0) {
            assertArrayEquals(v, Fft.irfft(Fft.rfft(x, 0), -1, 0).toDoubleArray(), tolerance(0x1p-52, n, v) / Math.sqrt(n));
        }
        Tensor f = Tensor.of(v, 3, n).to(DType.F32);
        Tensor fb = Fft.irfft(Fft.rfft(f, 1), n, -1);
        assertEquals(DType.F32, fb.dtype());
        assertArrayEquals(f.toFloatArray(), fb.toFloatArray(), (float) tolerance(0x1p-23, n, v));
    }

    @Test
    void irfftPadsAndTrimsLikeAHermitianExtension() {
        SplittableRandom r = new SplittableRandom(8);
        int bins = 6;
        double[] spec = randomValues(r, 2 * bins); // imag of bin 0 (and n/2) must be ignored
        for (int n : new int[] {1, 2, 5, 9, 10, 11, 16, 30}) {
            double[] got = Fft.irfft(Tensor.of(spec, bins, 2), n, 0).toDoubleArray();
            assertEquals(n, got.length);
            for (int j = 0; j < n; j++) {
                double s = spec[0];
                for (int k = 1; k < bins && k < (n + 1) / 2; k++) {
                    double angle = 2 * Math.PI * (((long) j * k) % n) / n;
                    s += 2 * (spec[2 * k] * Math.cos(angle) - spec[2 * k + 1] * Math.sin(angle));
                }
                if (n % 2 == 0 && n / 2 < bins) {
                    s += spec[n] * (j % 2 == 0 ? 1 : -1);
                }
                assertEquals(s / n, got[j], 1e-13, "n=" + n + " j=" + j);
            }
        }
    }

    @Test
    void largeLengthsRoundTripKeepEnergyAndFindTones() {
        for (int n : new int[] {10007, 1 << 14, 3 * 5 * 7 * 11 * 13}) {
            SplittableRandom r = new SplittableRandom(n);
            double[] v = randomValues(r, n);
            int tone = 1 + r.nextInt(n / 2 - 1);
            for (int j = 0; j < n; j++) {
                v[j] += 3 * Math.cos(2 * Math.PI * (((long) tone * j) % n) / n);
            }
            Tensor spec = Fft.rfft(Tensor.of(v), 0);
            double[] s = spec.toDoubleArray();
            // Parseval: sum x^2 = (1/n) sum over all n bins |X|^2, the upper bins mirroring the lower ones
            double energy = 0;
            for (int k = 0; k < n; k++) {
                int b = k <= n / 2 ? k : n - k;
                energy += s[2 * b] * s[2 * b] + s[2 * b + 1] * s[2 * b + 1];
            }
            double direct = 0;
            for (double x : v) {
                direct += x * x;
            }
            assertEquals(direct, energy / n, 1e-9 * direct, "n=" + n);
            assertEquals(3.0 * n / 2, s[2 * tone], 6 * Math.sqrt(n), "tone bin n=" + n);
            double[] back = Fft.irfft(spec.transpose(0, 0), n, 0).toDoubleArray();
            assertArrayEquals(v, back, 1e-12, "n=" + n);
        }
    }

    @Test
    void agreesWithCommonsMathForPowerOfTwo() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 512;
        double[] v = randomValues(r, n);
        Complex[] ref = new FastFourierTransformer(DftNormalization.STANDARD).transform(v, TransformType.FORWARD);
        double[] got = Fft.rfft(Tensor.of(v), 0).toDoubleArray();
        for (int k = 0; k <= n / 2; k++) {
            assertEquals(ref[k].getReal(), got[2 * k], 1e-12);
            assertEquals(ref[k].getImaginary(), got[2 * k + 1], 1e-12);
        }
        double[] inter = new double[2 * n];
        for (int j = 0; j < n; j++) {
            inter[2 * j] = v[j];
            inter[2 * j + 1] = v[n - 1 - j];
        }
        Complex[] zin = new Complex[n];
        for (int j = 0; j < n; j++) {
            zin[j] = new Complex(v[j], v[n - 1 - j]);
        }
        Complex[] zref = new FastFourierTransformer(DftNormalization.STANDARD).transform(zin, TransformType.INVERSE);
        double[] zgot = Fft.ifft(Tensor.of(inter, n, 2), 0).toDoubleArray();
        for (int k = 0; k < n; k++) {
            assertEquals(zref[k].getReal(), zgot[2 * k], 1e-14);
            assertEquals(zref[k].getImaginary(), zgot[2 * k + 1], 1e-14);
        }
    }

    @Test
    void resultsAreIdenticalForAnyThreadCount() {
        SplittableRandom r = new SplittableRandom(4);
        Tensor x = Tensor.of(randomValues(r, 2000 * 45), 2000, 45).to(DType.F32);
        int saved = Parallel.threads();
        try {
            Parallel.setThreads(1);
            float[] one = Fft.rfft(x, 1).toFloatArray();
            Parallel.setThreads(3);
            assertArrayEquals(one, Fft.rfft(x, 1).toFloatArray());
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void emptyBatchDimsGiveEmptyResults() {
        assertArrayEquals(new int[] {0, 3, 2}, Fft.rfft(Tensor.zeros(0, 4), 1).shape());
        assertArrayEquals(new int[] {0, 7}, Fft.irfft(Tensor.zeros(0, 4, 2), 7, 1).shape());
        assertArrayEquals(new int[] {3, 0, 2}, Fft.fft(Tensor.zeros(3, 0, 2), 0).shape());
    }

    @Test
    void errorsNameTheOpAndTheProblem() {
        Throwable e = assertThrows(IllegalArgumentException.class, () -> Fft.rfft(Tensor.zeros(2, 0), 1));
        assertEquals("rfft: invalid number of data points (0) along dim 1 of shape [2, 0]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Fft.rfft(Tensor.zeros(2, 3), 2));
        assertEquals("rfft: dim 2 out of range for a 2-d tensor", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Fft.irfft(Tensor.zeros(4, 3), -1, 0));
        assertEquals("irfft: expects a complex tensor with a trailing dim of size 2 (real, imag), got shape [4, 3]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Fft.irfft(Tensor.zeros(1, 2), -1, 0));
        assertEquals("irfft: invalid number of data points (0) for spectrum of shape [1, 2] along dim 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Fft.fft(Tensor.zeros(4, 2), 1));
        assertEquals("fft: dim 1 out of range for a 1-d tensor", e.getMessage());
        assertTrue(Fft.plan(6) == Fft.plan(6), "plans are cached");
    }
}
