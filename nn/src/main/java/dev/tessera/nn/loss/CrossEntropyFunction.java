package dev.tessera.nn.loss;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Parallel;
import dev.tessera.tensor.RowKernels;
import dev.tessera.tensor.Simd;
import dev.tessera.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused softmax cross-entropy with ignore index and label smoothing: the forward keeps each row's
 * max m and log s = log Σ exp(x − m), the backward writes (softmax − (1 − ε)·onehot − ε/C)·g/count.
 * Log-probabilities are always (x − m) − log s, never x − (m + log s): with a large m the sum
 * m + log s rounds log s away (at m = 3e38 in F32 the loss of [3e38, 3e38, 0] came out 0, not
 * ln 2). Rows run in fixed chunks on the shared pool; row losses are summed in row order, so the
 * result is deterministic. Formulas in
 * {@link Losses#crossEntropy(dev.tessera.autograd.Variable, Tensor, int, double)}; used by
 * {@link Losses#crossEntropyFused}.
 */
final class CrossEntropyFunction extends CustomFunction {
    private static final int GRAIN = 1 << 15;

    private final long[] targets;
    private final long ignoreIndex;
    private final double eps;
    private int count;

    CrossEntropyFunction(long[] targets, long ignoreIndex, double eps) {
        this.targets = targets;
        this.ignoreIndex = ignoreIndex;
        this.eps = eps;
    }

    @Override
    protected String name() {
        return "cross_entropy";
    }

    /** Logits as contiguous F32 or F64. */
    private static Tensor dense(Tensor x) {
        return DenseRows.dense(x, DenseRows.computeType(x));
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        Tensor x = dense(in[0]);
        int c = x.size(-1);
        int m = targets.length;
        float[] f = x.storage().floats();
        double[] d = x.storage().doubles();
        int base = x.offset();
        double[] rowMax = new double[m];
        double[] logSum = new double[m];
        double[] rowLoss = new double[m];
        int rowsPerChunk = Math.max(1, GRAIN / c);
        if (f != null) {
            Parallel.forEachRange(m, rowsPerChunk, (chunk, from, to) -> {
                float[] exps = scratch(c);
                for (int r = from; r < to; r++) {
                    if (targets[r] == ignoreIndex) {
                        continue;
                    }
                    int o = base + r * c;
                    float max = RowKernels.max(f, o, c);
                    double logS = Math.log(RowKernels.expShifted(f, o, max, exps, 0, c));
                    rowMax[r] = max;
                    logSum[r] = logS;
                    double nll = ((double) max - f[o + (int) targets[r]]) + logS;
                    rowLoss[r] = eps == 0 ? nll : (1 - eps) * nll + eps * (logS + gapOf(f, o, c, max) / c);
                }
            });
            return finish(ctx, in[0], rowMax, logSum, rowLoss);
        }
        Parallel.forEachRange(m, rowsPerChunk, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                if (targets[r] == ignoreIndex) {
                    continue;
                }
                int o = base + r * c;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    max = Math.max(max, DenseRows.at(f, d, o + j));
                }
                double s = 0;
                double gap = 0; // Σ (max − x_j), for the smoothing term
                for (int j = 0; j < c; j++) {
                    double shifted = DenseRows.at(f, d, o + j) - max;
                    s += Math.exp(shifted);
                    gap -= shifted;
                }
                double logS = Math.log(s);
                rowMax[r] = max;
                logSum[r] = logS;
                double nll = (max - DenseRows.at(f, d, o + (int) targets[r])) + logS; // −((x_t − max) − log s)
                rowLoss[r] = eps == 0 ? nll : (1 - eps) * nll + eps * (logS + gap / c);
            }
        });
        return finish(ctx, in[0], rowMax, logSum, rowLoss);
    }

    /** Σ (max − x_j) over the row, for the smoothing term. */
    private static double gapOf(float[] f, int o, int c, float max) {
        double gap = 0;
        for (int j = 0; j < c; j++) {
            gap -= (double) f[o + j] - max;
        }
        return gap;
    }

    /** The mean over counted rows (in row order: deterministic); saves what the backward needs. */
    private Tensor finish(Context ctx, Tensor logits, double[] rowMax, double[] logSum, double[] rowLoss) {
        int m = targets.length;
        double total = 0;
        int n = 0;
        for (int r = 0; r < m; r++) {
            if (targets[r] != ignoreIndex) {
                total += rowLoss[r];
                n++;
            }
        }
        count = n;
        ctx.save(logits, Tensor.of(rowMax, m), Tensor.of(logSum, m));
        return Tensor.scalar(total / n, logits.dtype());
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor gradOutput) {
        Tensor logits = ctx.saved(0);
        Tensor x = dense(logits);
        double[] rowMax = ctx.saved(1).storage().doubles();
        double[] logSum = ctx.saved(2).storage().doubles();
        int c = x.size(-1);
        int m = targets.length;
        float[] f = x.storage().floats();
        double[] d = x.storage().doubles();
        int base = x.offset();
        double scale = gradOutput.item() / count;
        DType outType = x.dtype();
        Tensor grad = Tensor.zeros(outType, logits.shape());
        float[] gf = grad.storage().floats();
        double[] gd = grad.storage().doubles();
        double smooth = eps / c;
        int rowsPerChunk = Math.max(1, GRAIN / c);
        if (f != null && gf != null) {
            Parallel.forEachRange(m, rowsPerChunk, (chunk, from, to) -> {
                for (int r = from; r < to; r++) {
                    if (targets[r] == ignoreIndex) {
                        continue;
                    }
                    int go = r * c;
                    // softmax as e^(x − max) / Σ: never x − (max + log s), which loses log s when max is huge
                    RowKernels.expShifted(f, base + r * c, (float) rowMax[r], gf, go, c);
                    rowGradient(gf, go, c, (float) Math.exp(-logSum[r]), (float) smooth, (float) scale);
                    // the target's p − 1 cancels: its p in double, as the F64 formula below
                    int t = (int) targets[r];
                    double p = Math.exp(((double) f[base + r * c + t] - rowMax[r]) - logSum[r]);
                    gf[go + t] = (float) ((p - smooth - (1 - eps)) * scale);
                }
            });
            return new Tensor[] {grad.dtype() == logits.dtype() ? grad : grad.to(logits.dtype())};
        }
        Parallel.forEachRange(m, rowsPerChunk, (chunk, from, to) -> {
            for (int r = from; r < to; r++) {
                if (targets[r] == ignoreIndex) {
                    continue;
                }
                int o = base + r * c;
                int go = r * c;
                int t = (int) targets[r];
                for (int j = 0; j < c; j++) {
                    double p = Math.exp((DenseRows.at(f, d, o + j) - rowMax[r]) - logSum[r]);
                    double v = (p - smooth - (j == t ? 1 - eps : 0)) * scale;
                    if (gf != null) {
                        gf[go + j] = (float) v;
                    } else {
                        gd[go + j] = v;
                    }
                }
            }
        });
        return new Tensor[] {grad.dtype() == logits.dtype() ? grad : grad.to(logits.dtype())};
    }

    private static final VectorSpecies<Float> S = Simd.F32;
    /** Each thread's buffer for a row of exponentials (a vocabulary-sized row is 200 KB at V = 50304). */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scratch(int c) {
        float[][] held = SCRATCH.get();
        if (held[0].length < c) {
            held[0] = new float[c];
        }
        return held[0];
    }

    /** g = (e·(1/s) − smooth)·scale over the row, in place (the target's entry is rewritten by the caller). */
    private static void rowGradient(float[] g, int o, int c, float invSum, float smooth, float scale) {
        int i = 0;
        if (Simd.ENABLED) {
            for (int upper = S.loopBound(c); i < upper; i += S.length()) {
                FloatVector.fromArray(S, g, o + i).mul(invSum).sub(smooth).mul(scale).intoArray(g, o + i);
            }
        }
        for (; i < c; i++) {
            g[o + i] = (g[o + i] * invSum - smooth) * scale;
        }
    }
}
