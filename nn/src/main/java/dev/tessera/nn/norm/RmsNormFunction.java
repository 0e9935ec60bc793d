package dev.tessera.nn.norm;

import static dev.tessera.nn.internal.DenseRows.at;
import static dev.tessera.nn.internal.DenseRows.dense;
import static dev.tessera.nn.internal.DenseRows.put;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.Simd;
import dev.tessera.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

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
        DType compute = DenseRows.computeType(inputs[0]);
        Tensor x = dense(inputs[0], compute);
        Tensor w = dense(inputs[1], compute);
        int d = x.size(-1);
        int rows = x.numel() / Math.max(d, 1);
        float[] xf = x.storage().floats();
        double[] xd = x.storage().doubles();
        int xo = x.offset();
        double[] ws = w.toDoubleArray();
        Tensor y = Tensor.zeros(compute, x.shape());
        float[] yf = y.storage().floats();
        double[] yd = y.storage().doubles();
        double[] r = new double[rows];
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        if (compute == DType.F32 && Simd.ENABLED) {
            float[] wf = w.storage().floats();
            int wo = w.offset();
            Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                float[] lanes = new float[S.length()];
                for (int row = from; row < to; row++) {
                    int o = row * d;
                    double ri = 1 / Math.sqrt(sumOfSquares(xf, xo + o, d, lanes) / d + eps);
                    r[row] = ri;
                    scaleRow(xf, xo + o, (float) ri, wf, wo, yf, o, d);
                }
            });
        } else {
            Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                for (int row = from; row < to; row++) {
                    int o = row * d;
                    double ss = 0;
                    for (int i = 0; i < d; i++) {
                        double v = at(xf, xd, xo + o + i);
                        ss += v * v;
                    }
                    double ri = 1 / Math.sqrt(ss / d + eps);
                    r[row] = ri;
                    for (int i = 0; i < d; i++) {
                        put(yf, yd, o + i, at(xf, xd, xo + o + i) * ri * ws[i]);
                    }
                }
            });
        }
        ctx.save(x, inputs[1]);
        savedR = r;
        inputType = inputs[0].dtype();
        return y.to(inputs[0].dtype());
    }

    private double[] savedR;
    private DType inputType;

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        Tensor x = ctx.saved(0);
        Tensor w0 = ctx.saved(1);
        DType compute = x.dtype();
        Tensor g = dense(grad, compute);
        int d = x.size(-1);
        int rows = x.numel() / Math.max(d, 1);
        float[] xf = x.storage().floats();
        double[] xd = x.storage().doubles();
        int xo = x.offset();
        float[] gf = g.storage().floats();
        double[] gd = g.storage().doubles();
        int go = g.offset();
        double[] ws = w0.toDoubleArray();
        double[] r = savedR;
        Tensor dx = Tensor.zeros(compute, x.shape());
        float[] dxf = dx.storage().floats();
        double[] dxd = dx.storage().doubles();
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        int chunks = Parallel.chunkCount(rows, grain);
        if (compute == DType.F32 && Simd.ENABLED) {
            Tensor w = dense(w0, compute);
            float[] wf = w.storage().floats();
            int wo = w.offset();
            float[][] dwPartial = new float[chunks][d];
            Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                float[] lanes = new float[S.length()];
                for (int row = from; row < to; row++) {
                    int o = row * d;
                    double ri = r[row];
                    double dot = dotOfProducts(gf, go + o, wf, wo, xf, xo + o, d, lanes);
                    rowGradients(gf, go + o, wf, wo, xf, xo + o, (float) ri, (float) (ri * ri * ri * dot / d), dxf, o,
                            dwPartial[chunk], d);
                }
            });
            double[] dw = new double[d];
            for (float[] part : dwPartial) { // chunk order: the same sum for any thread count
                for (int i = 0; i < d; i++) {
                    dw[i] += part[i];
                }
            }
            return new Tensor[] {dx.to(inputType), Tensor.of(dw, w0.shape()).to(w0.dtype())};
        }
        double[][] dwPartial = new double[chunks][d];
        Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
            double[] dw = dwPartial[chunk];
            for (int row = from; row < to; row++) {
                int o = row * d;
                double ri = r[row];
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += at(gf, gd, go + o + i) * ws[i] * at(xf, xd, xo + o + i);
                }
                double k = ri * ri * ri * dot / d;
                for (int i = 0; i < d; i++) {
                    double gi = at(gf, gd, go + o + i);
                    double xi = at(xf, xd, xo + o + i);
                    put(dxf, dxd, o + i, ri * gi * ws[i] - xi * k);
                    dw[i] += gi * xi * ri;
                }
            }
        });
        double[] dw = new double[d];
        for (double[] part : dwPartial) { // chunk order: the same sum for any thread count
            for (int i = 0; i < d; i++) {
                dw[i] += part[i];
            }
        }
        return new Tensor[] {dx.to(inputType), Tensor.of(dw, w0.shape()).to(w0.dtype())};
    }

    // ---------------------------------------------------------------- F32 rows on the vector unit
    // Each helper takes and returns arrays and scalars only, so no vector crosses a call C2 may
    // leave out of line. Sums run in float lanes and add the lanes in order in double (the tail
    // after them in double too): the same bits for any thread count and any JIT tier.

    private static final VectorSpecies<Float> S = Simd.F32;

    /** Σ x² over {@code x[o..o+d)}. */
    private static double sumOfSquares(float[] x, int o, int d, float[] lanes) {
        int upper = S.loopBound(d);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < upper; i += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, o + i);
            acc = v.fma(v, acc);
        }
        acc.intoArray(lanes, 0);
        double sum = Simd.sumInOrder(lanes, lanes.length);
        for (int i = upper; i < d; i++) {
            sum += (double) x[o + i] * x[o + i];
        }
        return sum;
    }

    /** y = x·r·w over the row. */
    private static void scaleRow(float[] x, int xo, float r, float[] w, int wo, float[] y, int yo, int d) {
        int upper = S.loopBound(d);
        for (int i = 0; i < upper; i += S.length()) {
            FloatVector.fromArray(S, x, xo + i).mul(r).mul(FloatVector.fromArray(S, w, wo + i)).intoArray(y, yo + i);
        }
        for (int i = upper; i < d; i++) {
            y[yo + i] = x[xo + i] * r * w[wo + i];
        }
    }

    /** Σ g·w·x over the row. */
    private static double dotOfProducts(float[] g, int go, float[] w, int wo, float[] x, int xo, int d, float[] lanes) {
        int upper = S.loopBound(d);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < upper; i += S.length()) {
            acc = FloatVector.fromArray(S, g, go + i).mul(FloatVector.fromArray(S, w, wo + i)).fma(FloatVector.fromArray(S, x, xo + i), acc);
        }
        acc.intoArray(lanes, 0);
        double sum = Simd.sumInOrder(lanes, lanes.length);
        for (int i = upper; i < d; i++) {
            sum += (double) (g[go + i] * w[wo + i]) * x[xo + i];
        }
        return sum;
    }

    /** dx = r·g·w − x·k over the row, and dw += g·x·r into the chunk's partial sums. */
    private static void rowGradients(float[] g, int go, float[] w, int wo, float[] x, int xo, float r, float k, float[] dx, int dxo,
            float[] dw, int d) {
        int upper = S.loopBound(d);
        for (int i = 0; i < upper; i += S.length()) {
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            FloatVector xv = FloatVector.fromArray(S, x, xo + i);
            gv.mul(r).mul(FloatVector.fromArray(S, w, wo + i)).sub(xv.mul(k)).intoArray(dx, dxo + i);
            FloatVector.fromArray(S, dw, i).add(gv.mul(xv).mul(r)).intoArray(dw, i);
        }
        for (int i = upper; i < d; i++) {
            dx[dxo + i] = r * g[go + i] * w[wo + i] - x[xo + i] * k;
            dw[i] += g[go + i] * x[xo + i] * r;
        }
    }
}
