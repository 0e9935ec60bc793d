package dev.tessera.nn;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Tensor;

/**
 * RMSNorm (Zhang &amp; Sennrich 2019) as one fused op over rows of length D:
 * r = 1/√(mean(x²) + ε), y = x·r·w. Backward, with u = g·w:
 * dx = r·u − x·r³·mean(u·x), dw = Σ_rows g·x·r. The per-row r is saved, not recomputed.
 * Computes in F64 for F64 inputs and F32 otherwise (accumulating sums in double); tested equal to
 * the composite of primitives in {@link RMSNorm#forwardComposite}.
 */
final class RmsNormFunction extends CustomFunction {
    private final double eps;

    RmsNormFunction(double eps) {
        this.eps = eps;
    }

    @Override
    protected String name() {
        return "rms_norm";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        Tensor x = inputs[0].to(DType.F64 == inputs[0].dtype() ? DType.F64 : DType.F32).contiguous();
        Tensor w = inputs[1].to(x.dtype()).contiguous();
        int d = x.size(-1);
        int rows = x.numel() / Math.max(d, 1);
        double[] xs = x.toDoubleArray();
        double[] ws = w.toDoubleArray();
        double[] ys = new double[xs.length];
        double[] r = new double[rows];
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
            for (int row = from; row < to; row++) {
                int o = row * d;
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    ss += xs[o + i] * xs[o + i];
                }
                double ri = 1 / Math.sqrt(ss / d + eps);
                r[row] = ri;
                for (int i = 0; i < d; i++) {
                    ys[o + i] = xs[o + i] * ri * ws[i];
                }
            }
        });
        ctx.save(inputs[0], inputs[1]);
        savedR = r;
        return Tensor.of(ys, x.shape()).to(inputs[0].dtype());
    }

    private double[] savedR;

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        Tensor x0 = ctx.saved(0);
        Tensor w0 = ctx.saved(1);
        int d = x0.size(-1);
        int rows = x0.numel() / Math.max(d, 1);
        double[] xs = x0.toDoubleArray();
        double[] ws = w0.toDoubleArray();
        double[] gs = grad.toDoubleArray();
        double[] r = savedR;
        double[] dx = new double[xs.length];
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        int chunks = Parallel.chunkCount(rows, grain);
        double[][] dwPartial = new double[chunks][d];
        Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
            double[] dw = dwPartial[chunk];
            for (int row = from; row < to; row++) {
                int o = row * d;
                double ri = r[row];
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += gs[o + i] * ws[i] * xs[o + i];
                }
                double k = ri * ri * ri * dot / d;
                for (int i = 0; i < d; i++) {
                    dx[o + i] = ri * gs[o + i] * ws[i] - xs[o + i] * k;
                    dw[i] += gs[o + i] * xs[o + i] * ri;
                }
            }
        });
        double[] dw = new double[d];
        for (double[] part : dwPartial) { // chunk order: the same sum for any thread count
            for (int i = 0; i < d; i++) {
                dw[i] += part[i];
            }
        }
        return new Tensor[] {Tensor.of(dx, x0.shape()).to(x0.dtype()), Tensor.of(dw, w0.shape()).to(w0.dtype())};
    }
}
