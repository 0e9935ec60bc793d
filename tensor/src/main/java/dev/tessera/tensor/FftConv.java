package dev.tessera.tensor;

/**
 * Causal depthwise long convolution, the core of the long-convolution token mixers (Hyena, H3,
 * SGConv, simple long convolutions): each channel's signal convolved with that channel's kernel,
 * position t seeing positions ≤ t only.
 *
 * <pre>
 * Dimensions: B batch, C channels, L length, K kernel length (taps beyond L are never reached).
 *
 *   y[b, c, t] = Σ_{j = 0}^{min(t, K − 1)} k[c, j] · x[b, c, t − j]                    (B, C, L)
 *
 * Gradients (correlations with the output gradient g):
 *   dx[b, c, s] = Σ_{t = s}^{L − 1} g[b, c, t] · k[c, t − s]
 *   dk[c, j]    = Σ_b Σ_{t = j}^{L − 1} g[b, c, t] · x[b, c, t − j]
 * </pre>
 *
 * <p><b>FFT path.</b> A linear convolution equals a circular one of length N ≥ L + K − 1, so with
 * both sides zero-padded to the power of two N: y = irfft(rfft(x) · rfft(k))[0, L), in O(N log N)
 * per line instead of O(L·K). The gradients are the same product with a conjugated factor:
 * dx = irfft(G · conj(K)) and dk = Σ_b irfft(G · conj(X)), both read on [0, L) (N ≥ L + K − 1
 * keeps the wrapped negative lags in the zero padding). Real lines go through the complex FFT two
 * at a time (z = a + i·b, then A_k = (Z_k + conj Z_{N−k}) / 2, B_k = (Z_k − conj Z_{N−k}) / 2i, and
 * the inverse of Y_a + i·Y_b returns y_a as its real part and y_b as its imaginary part), which
 * halves the transforms; pairs are fixed by line index, so results do not depend on the thread
 * count. Arithmetic is in double; the result is F64 for F64 input and F32 otherwise. Like any FFT
 * convolution, a NaN or infinity spreads over its whole line, and here also to the line paired
 * with it.
 *
 * <p><b>Direct path.</b> The O(L·K) sum as written, also in double: the scalar twin the FFT path is
 * tested against, and the faster one for short kernels ({@link #causalConv} picks it when
 * min(K, L) ≤ {@link #DIRECT_TAPS}).
 */
public final class FftConv {
    /**
     * Up to this many taps {@link #causalConv} takes the direct sum: FftConvBenchmark (8 channels,
     * K = L, on a loaded 2-core machine) had direct 0.17 ms vs FFT 0.61 ms at L = 128 and 10.1 ms vs
     * 2.4 ms at L = 1024, a crossover near K ≈ 250.
     */
    public static final int DIRECT_TAPS = 256;

    private FftConv() {}

    /** x (B, C, L) causally convolved with kernel (C, K): (B, C, L); direct for short kernels, else by FFT. */
    public static Tensor causalConv(Tensor x, Tensor kernel) {
        Dims d = Dims.of("causalConv", x, kernel);
        return d.taps <= DIRECT_TAPS ? direct(x, kernel) : fft(x, kernel);
    }

    /** {dx (B, C, L), dk (C, K)} for output gradient g (B, C, L), by the same path {@link #causalConv} takes. */
    public static Tensor[] causalConvBackward(Tensor g, Tensor x, Tensor kernel) {
        return Dispatch.run("causal_conv_backward", null, in -> {
            Dims d = Dims.of("causalConv backward", in[1], in[2]);
            return d.taps <= DIRECT_TAPS ? directBackward(in[0], in[1], in[2]) : fftBackward(in[0], in[1], in[2]);
        }, g, x, kernel);
    }

    /** The FFT path of {@link #causalConv}, whatever the kernel length. */
    public static Tensor fft(Tensor x, Tensor kernel) {
        Dims d = Dims.of("causalConv", x, kernel);
        double[] xs = spectra(lines(x), d.b * d.c, d.l, d.l, d.n);
        double[] ks = spectra(lines(kernel), d.c, d.k, d.taps, d.n);
        int width = d.bins * 2;
        multiply(xs, ks, d.b * d.c, d.c, width, false);
        return d.result(inverse(xs, d.b * d.c, d.n, d.l), x.dtype(), d.b, d.c, d.l);
    }

    /** The direct O(L·K) path of {@link #causalConv}. */
    public static Tensor direct(Tensor x, Tensor kernel) {
        Dims d = Dims.of("causalConv", x, kernel);
        double[] in = lines(x);
        double[] k = lines(kernel);
        double[] out = new double[d.b * d.c * d.l];
        forEach(d.b * d.c, d.l * d.taps, line -> {
            int kb = (line % d.c) * d.k;
            int at = line * d.l;
            for (int t = 0; t < d.l; t++) {
                double acc = 0;
                for (int j = 0, top = Math.min(t, d.taps - 1); j <= top; j++) {
                    acc += k[kb + j] * in[at + t - j];
                }
                out[at + t] = acc;
            }
        });
        return d.result(out, x.dtype(), d.b, d.c, d.l);
    }

    /** The FFT path of {@link #causalConvBackward}. */
    public static Tensor[] fftBackward(Tensor g, Tensor x, Tensor kernel) {
        Dims d = Dims.of("causalConv backward", x, kernel);
        d.checkGrad(g);
        int lines = d.b * d.c;
        int width = d.bins * 2;
        double[] gs = spectra(lines(g), lines, d.l, d.l, d.n);
        double[] xs = spectra(lines(x), lines, d.l, d.l, d.n);
        double[] ks = spectra(lines(kernel), d.c, d.k, d.taps, d.n);
        // dk: Σ_b G · conj(X), summed per channel in batch order before one inverse per channel
        double[] dks = new double[d.c * width];
        for (int line = 0; line < lines; line++) {
            int at = line * width;
            int to = (line % d.c) * width;
            for (int q = 0; q < width; q += 2) {
                double gr = gs[at + q];
                double gi = gs[at + q + 1];
                double xr = xs[at + q];
                double xi = xs[at + q + 1];
                dks[to + q] += gr * xr + gi * xi;
                dks[to + q + 1] += gi * xr - gr * xi;
            }
        }
        multiply(gs, ks, lines, d.c, width, true);
        Tensor dx = d.result(inverse(gs, lines, d.n, d.l), g.dtype(), d.b, d.c, d.l);
        double[] dkTaps = inverse(dks, d.c, d.n, d.taps);
        return new Tensor[] {dx, d.kernelResult(dkTaps, kernel.dtype())};
    }

    /** The direct path of {@link #causalConvBackward}. */
    public static Tensor[] directBackward(Tensor g, Tensor x, Tensor kernel) {
        Dims d = Dims.of("causalConv backward", x, kernel);
        d.checkGrad(g);
        double[] gd = lines(g);
        double[] in = lines(x);
        double[] k = lines(kernel);
        double[] dx = new double[d.b * d.c * d.l];
        forEach(d.b * d.c, d.l * d.taps, line -> {
            int kb = (line % d.c) * d.k;
            int at = line * d.l;
            for (int s = 0; s < d.l; s++) {
                double acc = 0;
                for (int j = 0, top = Math.min(d.l - 1 - s, d.taps - 1); j <= top; j++) {
                    acc += k[kb + j] * gd[at + s + j];
                }
                dx[at + s] = acc;
            }
        });
        double[] dk = new double[d.c * d.taps];
        forEach(d.c, d.b * d.l * d.taps, c -> {
            for (int j = 0; j < d.taps; j++) {
                double acc = 0;
                for (int b = 0; b < d.b; b++) {
                    int at = (b * d.c + c) * d.l;
                    for (int t = j; t < d.l; t++) {
                        acc += gd[at + t] * in[at + t - j];
                    }
                }
                dk[c * d.taps + j] = acc;
            }
        });
        return new Tensor[] {d.result(dx, g.dtype(), d.b, d.c, d.l), d.kernelResult(dk, kernel.dtype())};
    }

    // ---------------------------------------------------------------- helpers

    /** Validated sizes: N the power-of-two FFT length ≥ L + taps − 1, bins = N/2 + 1. */
    private record Dims(int b, int c, int l, int k, int taps, int n, int bins) {
        static Dims of(String op, Tensor x, Tensor kernel) {
            if (x.rank() != 3 || kernel.rank() != 2 || kernel.size(0) != x.size(1) || x.size(2) == 0 || kernel.size(1) == 0) {
                throw new IllegalArgumentException(op + ": expects x (B, C, L) and kernel (C, K) with L, K >= 1, got "
                        + Shapes.str(x.shape()) + " and " + Shapes.str(kernel.shape()));
            }
            if (!x.dtype().isFloating() || !kernel.dtype().isFloating()) {
                throw new IllegalArgumentException(op + ": expects floating tensors, got " + x.dtype() + " and " + kernel.dtype());
            }
            int l = x.size(2);
            int k = kernel.size(1);
            int taps = Math.min(k, l);
            int n = Integer.highestOneBit(Math.max(1, l + taps - 1));
            if (n < l + taps - 1) {
                n <<= 1;
            }
            return new Dims(x.size(0), x.size(1), l, k, taps, n, n / 2 + 1);
        }

        void checkGrad(Tensor g) {
            if (g.rank() != 3 || g.size(0) != b || g.size(1) != c || g.size(2) != l) {
                throw new IllegalArgumentException("causalConv backward: gradient " + Shapes.str(g.shape()) + " does not match the output ("
                        + b + ", " + c + ", " + l + ")");
            }
        }

        Tensor result(double[] values, DType like, int... shape) {
            Tensor t = Tensor.of(values, shape);
            return like == DType.F64 ? t : t.to(DType.F32);
        }

        /** (C, K) from the first {@code taps} taps per channel; taps the output never reaches get zero. */
        Tensor kernelResult(double[] perTap, DType like) {
            double[] full = perTap;
            if (taps < k) {
                full = new double[c * k];
                for (int ch = 0; ch < c; ch++) {
                    System.arraycopy(perTap, ch * taps, full, ch * k, taps);
                }
            }
            return result(full, like, c, k);
        }
    }

    /** The tensor's values in row-major order as a fresh or shared dense double array starting at 0. */
    private static double[] lines(Tensor t) {
        Tensor dense = Ops.materialize(t, DType.F64).contiguous();
        double[] v = dense.storage().doubles();
        if (dense.offset() == 0 && v.length == dense.numel()) {
            return v;
        }
        return java.util.Arrays.copyOfRange(v, dense.offset(), dense.offset() + dense.numel());
    }

    private interface LineBody {
        void run(int line);
    }

    /** Runs {@code body} over {@code count} items in chunks fixed by the sizes ({@code cost} values per item). */
    private static void forEach(int count, long cost, LineBody body) {
        int grain = (int) Math.max(1, Math.min(count, StridedLoop.GRAIN / Math.max(1, cost)));
        Parallel.forEachRange(count, grain, (chunk, from, to) -> {
            for (int i = from; i < to; i++) {
                body.run(i);
            }
        });
    }

    /**
     * Half spectra (N/2 + 1 complex bins, interleaved) of {@code count} real lines of {@code stride}
     * values, each read for its first {@code take} values and zero-padded to {@code n}; two lines per
     * complex FFT.
     */
    private static double[] spectra(double[] src, int count, int stride, int take, int n) {
        int bins = n / 2 + 1;
        int width = 2 * bins;
        double[] out = new double[count * width];
        Fft.Plan plan = Fft.plan(n);
        forEachPair(count, n, plan, (a, hasB, re, im, work) -> {
            java.util.Arrays.fill(re, 0);
            java.util.Arrays.fill(im, 0);
            System.arraycopy(src, a * stride, re, 0, take);
            if (hasB) {
                System.arraycopy(src, (a + 1) * stride, im, 0, take);
            }
            plan.forward(re, im, work);
            int oa = a * width;
            int ob = oa + width;
            for (int q = 0; q < bins; q++) {
                int r = (n - q) % n;
                double zr = re[q];
                double zi = im[q];
                double cr = re[r]; // conj Z[N − q] = (cr, −im[r])
                double ci = -im[r];
                out[oa + 2 * q] = 0.5 * (zr + cr);
                out[oa + 2 * q + 1] = 0.5 * (zi + ci);
                if (hasB) {
                    out[ob + 2 * q] = 0.5 * (zi - ci);
                    out[ob + 2 * q + 1] = -0.5 * (zr - cr);
                }
            }
        });
        return out;
    }

    /** spec[line] ← spec[line] · ks[line mod C] (or · conj ks), in place over interleaved half spectra. */
    private static void multiply(double[] spec, double[] ks, int lines, int channels, int width, boolean conjugate) {
        double sign = conjugate ? -1 : 1;
        forEach(lines, width, line -> {
            int at = line * width;
            int kt = (line % channels) * width;
            for (int q = 0; q < width; q += 2) {
                double ar = spec[at + q];
                double ai = spec[at + q + 1];
                double br = ks[kt + q];
                double bi = sign * ks[kt + q + 1];
                spec[at + q] = ar * br - ai * bi;
                spec[at + q + 1] = ar * bi + ai * br;
            }
        });
    }

    /** The first {@code keep} values of the real inverse transforms of {@code count} half spectra, two per complex FFT. */
    private static double[] inverse(double[] spec, int count, int n, int keep) {
        int bins = n / 2 + 1;
        int width = 2 * bins;
        double[] out = new double[count * keep];
        Fft.Plan plan = Fft.plan(n);
        double scale = 1.0 / n;
        forEachPair(count, n, plan, (a, hasB, re, im, work) -> {
            int sa = a * width;
            int sb = sa + width;
            // W = Y_a + i·Y_b over all N bins (Y[N − q] = conj Y[q]); the inverse is conj(forward(conj W)) / N
            for (int q = 0; q < n; q++) {
                int h = q < bins ? q : n - q;
                double s = q < bins ? 1 : -1;
                double yar = spec[sa + 2 * h];
                double yai = s * spec[sa + 2 * h + 1];
                double ybr = hasB ? spec[sb + 2 * h] : 0;
                double ybi = hasB ? s * spec[sb + 2 * h + 1] : 0;
                re[q] = yar - ybi;
                im[q] = -(yai + ybr);
            }
            plan.forward(re, im, work);
            for (int j = 0; j < keep; j++) {
                out[a * keep + j] = re[j] * scale;
                if (hasB) {
                    out[(a + 1) * keep + j] = -im[j] * scale;
                }
            }
        });
        return out;
    }

    private interface PairBody {
        void run(int first, boolean hasSecond, double[] re, double[] im, double[][] work);
    }

    /** Runs {@code body} for lines (0, 1), (2, 3), … with per-chunk scratch of length n. */
    private static void forEachPair(int count, int n, Fft.Plan plan, PairBody body) {
        int pairs = (count + 1) / 2;
        int grain = Math.max(1, StridedLoop.GRAIN / (4 * n));
        Parallel.forEachRange(pairs, grain, (chunk, from, to) -> {
            double[] re = new double[n];
            double[] im = new double[n];
            double[][] work = plan.newWork();
            for (int p = from; p < to; p++) {
                body.run(2 * p, 2 * p + 1 < count, re, im, work);
            }
        });
    }
}
