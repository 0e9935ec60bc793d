package dev.tessera.tensor;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Discrete Fourier transforms along one dim, with PyTorch's {@code torch.fft} semantics and
 * "backward" normalisation (its default): the forward transform is unscaled,
 * {@code X[k] = sum_j x[j] exp(-2 pi i j k / n)}, and the inverse carries the {@code 1/n},
 * {@code x[j] = (1/n) sum_k X[k] exp(+2 pi i j k / n)}.
 *
 * <p><b>Complex layout.</b> Tessera has no complex dtype, so a complex tensor of shape {@code S} is
 * stored as a real tensor of shape {@code S + [2]}: the trailing dim holds (real, imag). This is
 * PyTorch's {@code torch.view_as_real} layout, so {@code view_as_complex} of the same data gives
 * PyTorch's result. For ops that take a complex input ({@link #irfft}, {@link #fft},
 * {@link #ifft}), {@code dim} counts the complex dims only (the trailing 2 is not a dim you can
 * transform; {@code -1} is the last complex dim).
 *
 * <p><b>Algorithms.</b> Lengths that are powers of two use an iterative radix-2 Cooley–Tukey
 * transform with precomputed twiddles; any other length {@code n} uses Bluestein's chirp-z
 * algorithm, which rewrites the DFT as a convolution ({@code jk = (j² + k² - (k-j)²) / 2}) computed
 * with power-of-two FFTs of length {@code m >= 2n - 1}, so every length costs O(n log n). Plans
 * (twiddles, chirps) are cached per length. Arithmetic is in double; the result is F64 for F64
 * input and F32 otherwise (F32, halves and integers). Independent lines along the other dims run
 * in parallel in chunks fixed by the sizes, so results do not depend on the thread count.
 */
public final class Fft {
    private static final int MAX_CACHED_PLANS = 64;
    private static final ConcurrentHashMap<Integer, Plan> PLANS = new ConcurrentHashMap<>();

    private Fft() {}

    // ---------------------------------------------------------------- public API

    /**
     * Real-to-complex FFT along {@code dim}: the non-redundant half {@code X[0 .. n/2]} of the DFT of
     * real {@code x} (the rest is {@code X[n-k] = conj(X[k])}). The result has x's shape with
     * {@code size(dim) = n/2 + 1} and an extra trailing dim of size 2 (real, imag).
     */
    public static Tensor rfft(Tensor x, int dim) {
        String op = "rfft";
        int d = Shapes.dim(op, dim, x.rank());
        int n = x.size(d);
        if (n == 0) {
            throw new IllegalArgumentException(op + ": invalid number of data points (0) along dim " + dim + " of shape "
                    + Shapes.str(x.shape()));
        }
        int last = x.rank() - 1;
        Tensor moved = Ops.materialize(x.transpose(d, last), DType.F64).contiguous();
        int bins = n / 2 + 1;
        int[] ms = moved.shape();
        int[] outShape = java.util.Arrays.copyOf(ms, ms.length + 1);
        outShape[last] = bins;
        outShape[last + 1] = 2;
        Tensor out = Tensor.zeros(DType.F64, outShape);
        int lines = moved.numel() / n;
        double[] in = moved.storage().doubles();
        double[] o = out.storage().doubles();
        int base = moved.offset();
        Plan plan = plan(n);
        // each line alone, imaginary part zero: packing two real lines into one complex FFT (z = a + ib) halves the
        // work, but rounding then mixes the lines, and an inf or NaN in one makes the other's spectrum NaN
        forEachLine(lines, n, plan, (line, re, im, work) -> {
            System.arraycopy(in, base + line * n, re, 0, n);
            java.util.Arrays.fill(im, 0);
            plan.forward(re, im, work);
            int at = line * bins * 2;
            for (int k = 0; k < bins; k++) {
                o[at + 2 * k] = re[k];
                o[at + 2 * k + 1] = im[k];
            }
        });
        return finish(out.transpose(d, last), resultType(x.dtype()));
    }

    /**
     * Inverse of {@link #rfft}: the real signal of length {@code n} whose DFT has the Hermitian half
     * {@code spectrum} along complex dim {@code dim}. Bins beyond {@code n/2} are ignored and missing
     * ones read as zero; the imaginary parts of bin 0 (and of bin n/2 for even n), which a real
     * signal cannot have, are ignored. {@code n = -1} means {@code 2 * (size(dim) - 1)}, PyTorch's
     * default. The output has the complex shape with {@code size(dim) = n}.
     */
    public static Tensor irfft(Tensor spectrum, int n, int dim) {
        String op = "irfft";
        int crank = complexRank(op, spectrum);
        int d = Shapes.dim(op, dim, crank);
        int bins = spectrum.size(d);
        int len = n == -1 ? 2 * (bins - 1) : n;
        if (len <= 0) {
            throw new IllegalArgumentException(op + ": invalid number of data points (" + len + ") for spectrum of shape "
                    + Shapes.str(spectrum.shape()) + " along dim " + dim);
        }
        int last = crank - 1;
        Tensor moved = Ops.materialize(spectrum.transpose(d, last), DType.F64).contiguous();
        int[] ms = moved.shape();
        int[] outShape = java.util.Arrays.copyOf(ms, crank);
        outShape[last] = len;
        Tensor out = Tensor.zeros(DType.F64, outShape);
        int lines = (int) (Shapes.numel(outShape) / len);
        int used = Math.min(bins, len / 2 + 1);
        double[] in = moved.storage().doubles();
        double[] o = out.storage().doubles();
        int base = moved.offset();
        Plan plan = plan(len);
        double scale = 1.0 / len;
        forEachLine(lines, len, plan, (line, re, im, work) -> {
            java.util.Arrays.fill(re, 0);
            java.util.Arrays.fill(im, 0);
            int at = base + line * bins * 2;
            for (int k = 0; k < used; k++) {
                re[k] = in[at + 2 * k];
                im[k] = in[at + 2 * k + 1];
            }
            im[0] = 0;
            if (len % 2 == 0) {
                im[len / 2] = 0;
            }
            for (int k = len / 2 + 1; k < len; k++) {
                re[k] = re[len - k];
                im[k] = -im[len - k];
            }
            // inverse DFT = conj(forward(conj(X))) / n; only the real part is kept
            for (int k = 0; k < len; k++) {
                im[k] = -im[k];
            }
            plan.forward(re, im, work);
            for (int j = 0; j < len; j++) {
                o[line * len + j] = re[j] * scale;
            }
        });
        return finish(out.transpose(d, last), resultType(spectrum.dtype()));
    }

    /** Complex-to-complex forward FFT along complex dim {@code dim} of a (real, imag)-trailing tensor. Unscaled. */
    public static Tensor fft(Tensor x, int dim) {
        return Dispatch.run("fft", dim, in -> complexTransform("fft", in[0], dim, false), x);
    }

    /** Complex-to-complex inverse FFT along complex dim {@code dim}, scaled by {@code 1/n}. */
    public static Tensor ifft(Tensor x, int dim) {
        return Dispatch.run("ifft", dim, in -> complexTransform("ifft", in[0], dim, true), x);
    }

    private static Tensor complexTransform(String op, Tensor x, int dim, boolean inverse) {
        int crank = complexRank(op, x);
        int d = Shapes.dim(op, dim, crank);
        int n = x.size(d);
        if (n == 0) {
            throw new IllegalArgumentException(op + ": invalid number of data points (0) along dim " + dim + " of shape "
                    + Shapes.str(x.shape()));
        }
        int last = crank - 1;
        Tensor moved = Ops.materialize(x.transpose(d, last), DType.F64).contiguous();
        Tensor out = Tensor.zeros(DType.F64, moved.shape());
        int lines = moved.numel() / (2 * n);
        double[] in = moved.storage().doubles();
        double[] o = out.storage().doubles();
        int base = moved.offset();
        Plan plan = plan(n);
        double scale = inverse ? 1.0 / n : 1.0;
        double sign = inverse ? -1 : 1; // inverse = conj(forward(conj(X))) / n
        forEachLine(lines, n, plan, (line, re, im, work) -> {
            int at = base + line * n * 2;
            for (int k = 0; k < n; k++) {
                re[k] = in[at + 2 * k];
                im[k] = sign * in[at + 2 * k + 1];
            }
            plan.forward(re, im, work);
            int ot = line * n * 2;
            for (int k = 0; k < n; k++) {
                o[ot + 2 * k] = re[k] * scale;
                o[ot + 2 * k + 1] = sign * im[k] * scale;
            }
        });
        return finish(out.transpose(d, last), resultType(x.dtype()));
    }

    // ---------------------------------------------------------------- helpers

    private static int complexRank(String op, Tensor x) {
        if (x.rank() < 2 || x.size(-1) != 2) {
            throw new IllegalArgumentException(op + ": expects a complex tensor with a trailing dim of size 2 (real, imag), got shape "
                    + Shapes.str(x.shape()));
        }
        return x.rank() - 1;
    }

    private static DType resultType(DType in) {
        return in == DType.F64 ? DType.F64 : DType.F32;
    }

    /** A contiguous copy of the F64 view {@code t} in {@code type}: one pass that both reorders and converts. */
    private static Tensor finish(Tensor t, DType type) {
        Tensor out = Tensor.zeros(type, t.shape());
        Copy.copy(t, out);
        return out;
    }

    private interface LineBody {
        void run(int line, double[] re, double[] im, double[][] work);
    }

    /**
     * Runs {@code body} for every line with per-chunk scratch of the plan's length;
     * {@code cost} (values per line) sets the chunk size, which depends only on the sizes.
     */
    private static void forEachLine(int lines, int cost, Plan plan, LineBody body) {
        if (lines == 0) {
            return;
        }
        int perChunk = Math.max(1, StridedLoop.GRAIN / (4 * Math.max(cost, 1)));
        Parallel.forEachRange(lines, perChunk, (c, from, to) -> {
            double[] re = new double[plan.n];
            double[] im = new double[plan.n];
            double[][] work = plan.newWork();
            for (int line = from; line < to; line++) {
                body.run(line, re, im, work);
            }
        });
    }

    /** The cached plan for length {@code n} (built outside the map so Bluestein can fetch its inner plan). */
    static Plan plan(int n) {
        Plan p = PLANS.get(n);
        if (p == null) {
            p = new Plan(n);
            if (PLANS.size() >= MAX_CACHED_PLANS) {
                PLANS.clear();
            }
            Plan raced = PLANS.putIfAbsent(n, p);
            p = raced != null ? raced : p;
        }
        return p;
    }

    /** An immutable transform plan for one length; scratch comes from {@link #newWork()}, so plans are shared across threads. */
    static final class Plan {
        final int n;
        private final boolean pow2;
        // radix-2: bit-reversal permutation and twiddles exp(-2 pi i t / n), t < n/2
        private int[] rev;
        private double[] cos;
        private double[] sin;
        // Bluestein: chirp w[k] = exp(-pi i k^2 / n) and the FFT of its conjugate, wrapped to length m
        private int m;
        private Plan inner;
        private double[] chirpRe;
        private double[] chirpIm;
        private double[] filterRe;
        private double[] filterIm;

        Plan(int n) {
            this.n = n;
            this.pow2 = Integer.bitCount(n) == 1;
            if (pow2) {
                int bits = Integer.numberOfTrailingZeros(n);
                rev = new int[n];
                for (int i = 0; i < n; i++) {
                    rev[i] = bits == 0 ? 0 : Integer.reverse(i) >>> (32 - bits);
                }
                cos = new double[n / 2];
                sin = new double[n / 2];
                for (int t = 0; t < n / 2; t++) {
                    double angle = 2 * Math.PI * t / n;
                    cos[t] = Math.cos(angle);
                    sin[t] = -Math.sin(angle);
                }
                return;
            }
            m = Integer.highestOneBit(2 * n - 1) << 1;
            inner = plan(m);
            chirpRe = new double[n];
            chirpIm = new double[n];
            filterRe = new double[m];
            filterIm = new double[m];
            for (int k = 0; k < n; k++) {
                // k^2 mod 2n keeps the angle small, so the chirp stays accurate for large k
                double angle = Math.PI * (((long) k * k) % (2L * n)) / n;
                chirpRe[k] = Math.cos(angle);
                chirpIm[k] = -Math.sin(angle);
                filterRe[k] = chirpRe[k];
                filterIm[k] = -chirpIm[k];
                if (k > 0) {
                    filterRe[m - k] = chirpRe[k];
                    filterIm[m - k] = -chirpIm[k];
                }
            }
            inner.forward(filterRe, filterIm, null);
        }

        /** Scratch for one thread: two length-m buffers for Bluestein, none for radix-2. */
        double[][] newWork() {
            return pow2 ? null : new double[][] {new double[m], new double[m]};
        }

        /** In-place forward DFT of {@code (re, im)[0, n)}. */
        void forward(double[] re, double[] im, double[][] work) {
            if (pow2) {
                radix2(re, im);
            } else {
                bluestein(re, im, work);
            }
        }

        private void radix2(double[] re, double[] im) {
            for (int i = 0; i < n; i++) {
                int j = rev[i];
                if (i < j) {
                    double t = re[i];
                    re[i] = re[j];
                    re[j] = t;
                    t = im[i];
                    im[i] = im[j];
                    im[j] = t;
                }
            }
            for (int size = 2; size <= n; size <<= 1) {
                int half = size >> 1;
                int step = n / size;
                for (int start = 0; start < n; start += size) {
                    for (int j = 0, t = 0; j < half; j++, t += step) {
                        int a = start + j;
                        int b = a + half;
                        double wr = cos[t];
                        double wi = sin[t];
                        double xr = re[b] * wr - im[b] * wi;
                        double xi = re[b] * wi + im[b] * wr;
                        re[b] = re[a] - xr;
                        im[b] = im[a] - xi;
                        re[a] += xr;
                        im[a] += xi;
                    }
                }
            }
        }

        /** X[k] = w[k] * sum_j (x[j] w[j]) conj(w[k-j]): a length-m circular convolution done by FFT. */
        private void bluestein(double[] re, double[] im, double[][] work) {
            double[] ar = work[0];
            double[] ai = work[1];
            for (int k = 0; k < n; k++) {
                ar[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k];
                ai[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k];
            }
            java.util.Arrays.fill(ar, n, m, 0);
            java.util.Arrays.fill(ai, n, m, 0);
            inner.forward(ar, ai, null);
            // pointwise product with the filter, conjugated so the next forward FFT acts as an inverse
            for (int k = 0; k < m; k++) {
                double r = ar[k] * filterRe[k] - ai[k] * filterIm[k];
                double i = ar[k] * filterIm[k] + ai[k] * filterRe[k];
                ar[k] = r;
                ai[k] = -i;
            }
            inner.forward(ar, ai, null);
            double scale = 1.0 / m;
            for (int k = 0; k < n; k++) {
                double cr = ar[k] * scale;
                double ci = -ai[k] * scale;
                re[k] = cr * chirpRe[k] - ci * chirpIm[k];
                im[k] = cr * chirpIm[k] + ci * chirpRe[k];
            }
        }
    }
}
