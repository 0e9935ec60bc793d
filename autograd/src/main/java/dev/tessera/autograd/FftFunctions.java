package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.FftConv;
import dev.tessera.tensor.Tensor;

/**
 * rfft and irfft are linear, so each backward is the other's adjoint. With c_k = 1 for the DC and
 * (even n) Nyquist bins and 2 for the others:
 * rfft: dx = n · irfft(G / c, n); irfft: dY_k = (c_k / n) · rfft(g)_k.
 * The causal convolution's backward is two correlations with the output gradient, computed by
 * {@link FftConv#causalConvBackward} (two more FFT products).
 */
final class FftFunctions {
    private FftFunctions() {}

    /** 1/c_k (or c_k) for {@code bins} bins of a length-n real signal, shaped to broadcast at complex dim d. */
    private static Tensor binWeights(int bins, int n, int d, int rank, DType dtype, boolean inverse) {
        double[] w = new double[bins];
        for (int k = 0; k < bins; k++) {
            boolean edge = k == 0 || (n % 2 == 0 && k == n / 2);
            double c = edge ? 1 : 2;
            w[k] = inverse ? 1 / c : c;
        }
        int[] shape = new int[rank];
        java.util.Arrays.fill(shape, 1);
        shape[d] = bins;
        return Tensor.of(w).to(dtype).reshape(shape);
    }

    static Variable rfft(Variable x, int dim) {
        Tensor in = x.data();
        int d = dim < 0 ? dim + in.rank() : dim;
        int n = in.size(d);
        Tensor out = in.rfft(d);
        return Variable.record("rfft", out, g -> {
            int bins = g.size(d);
            Tensor scaled = g.mul(binWeights(bins, n, d, g.rank(), g.dtype(), true).to(g.device()));
            return new Tensor[] {scaled.irfft(n, d).mul((double) n).to(in.dtype())};
        }, new Tensor[0], x);
    }

    static Variable irfft(Variable spectrum, int n, int dim) {
        Tensor in = spectrum.data();
        int d = dim < 0 ? dim + in.rank() - 1 : dim;
        Tensor out = in.irfft(n, d);
        int length = out.size(d);
        int bins = in.size(d);
        return Variable.record("irfft", out, g -> {
            Tensor spec = g.rfft(d); // length/2 + 1 bins
            int have = spec.size(d);
            Tensor fitted;
            if (have >= bins) {
                fitted = spec.narrow(d, 0, bins);
            } else { // the forward zero-padded the missing bins: they get no gradient
                int[] padShape = spec.shape();
                padShape[d] = bins - have;
                fitted = Tensor.cat(d, spec, Tensor.zeros(spec.device(), spec.dtype(), padShape));
            }
            Tensor w = binWeights(bins, length, d, fitted.rank(), fitted.dtype(), false).to(fitted.device());
            // bins at or past n/2 + 1 were not read by the forward
            if (bins > length / 2 + 1) {
                int[] keep = new int[fitted.rank()];
                java.util.Arrays.fill(keep, 1);
                keep[d] = bins;
                double[] mask = new double[bins];
                for (int k = 0; k <= length / 2 && k < bins; k++) {
                    mask[k] = 1;
                }
                w = w.mul(Tensor.of(mask).to(fitted.dtype()).reshape(keep).to(fitted.device()));
            }
            return new Tensor[] {fitted.mul(w).div((double) length).contiguous().to(in.dtype())};
        }, new Tensor[0], spectrum);
    }

    static Variable causalConv(Variable x, Variable kernel) {
        Tensor in = x.data();
        Tensor k = kernel.data();
        Tensor out = in.causalConv(k);
        return Variable.record("causalConv", out, g -> {
            Tensor[] d = FftConv.causalConvBackward(g, in, k);
            return new Tensor[] {d[0].to(in.dtype()), d[1].to(k.dtype())};
        }, new Tensor[] {in, k}, x, kernel);
    }
}
