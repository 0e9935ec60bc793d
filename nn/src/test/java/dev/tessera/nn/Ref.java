package dev.tessera.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.attention.MultiHeadAttention;
import dev.tessera.nn.ffn.Activation;
import dev.tessera.nn.ffn.FeedForward;
import dev.tessera.nn.norm.NormKind;
import dev.tessera.nn.position.RotaryEmbedding;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Map;
import org.apache.commons.math3.special.Erf;

/**
 * Independent double-precision reference math for the recipe, written from the papers' equations
 * with plain loops over row-major double[] (no Tensor ops). Rows × features layout throughout.
 */
public final class Ref {
    private Ref() {}

    public static double[] d(Tensor t) {
        return t.contiguous().toDoubleArray();
    }

    public static double[] p(Map<String, Tensor> state, String name) {
        Tensor t = state.get(name);
        return t == null ? null : d(t);
    }

    public static Tensor randn(long seed, double std, int... shape) {
        return Tensor.randn(new Generator(seed), DType.F64, shape).mul(std);
    }

    /** y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]. */
    public static double[] linear(double[] x, int rows, int in, double[] w, double[] b, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    public static double[] layerNorm(double[] x, int dim, double[] w, double[] b, double eps) {
        int rows = x.length / dim;
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < dim; i++) {
                mean += x[r * dim + i];
            }
            mean /= dim;
            double var = 0;
            for (int i = 0; i < dim; i++) {
                double c = x[r * dim + i] - mean;
                var += c * c;
            }
            var /= dim;
            for (int i = 0; i < dim; i++) {
                double v = (x[r * dim + i] - mean) / Math.sqrt(var + eps);
                y[r * dim + i] = v * (w == null ? 1 : w[i]) + (b == null ? 0 : b[i]);
            }
        }
        return y;
    }

    public static double[] rmsNorm(double[] x, int dim, double[] w, double eps) {
        int rows = x.length / dim;
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < dim; i++) {
                ms += x[r * dim + i] * x[r * dim + i];
            }
            ms /= dim;
            for (int i = 0; i < dim; i++) {
                y[r * dim + i] = x[r * dim + i] / Math.sqrt(ms + eps) * (w == null ? 1 : w[i]);
            }
        }
        return y;
    }

    public static double[] norm(NormKind kind, double[] x, int dim, Map<String, Tensor> s, String prefix, double eps) {
        return kind == NormKind.RMS_NORM ? rmsNorm(x, dim, p(s, prefix + "weight"), eps)
                : layerNorm(x, dim, p(s, prefix + "weight"), p(s, prefix + "bias"), eps);
    }

    public static double act(Activation a, double x) {
        return switch (a) {
            case RELU -> Math.max(0, x);
            case GELU_ERF -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
            case SQUARED_RELU -> Math.max(0, x) * Math.max(0, x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
        };
    }

    /** B24 routing: whether position i is among the m largest scores (ties to the earlier position), counted directly, no sorting. */
    public static boolean routed(double[] scores, int i, int m) {
        int ahead = 0;
        for (int j = 0; j < scores.length; j++) {
            ahead += scores[j] > scores[i] || (scores[j] == scores[i] && j < i) ? 1 : 0;
        }
        return ahead < m;
    }

    public static double[] ffn(FeedForward.Config c, double[] x, Map<String, Tensor> s, String pre) {
        int rows = x.length / c.dim();
        Activation a = c.effectiveActivation();
        if (!c.kind().gated()) {
            double[] h = linear(x, rows, c.dim(), p(s, pre + "fc1.weight"), p(s, pre + "fc1.bias"), c.hidden());
            for (int i = 0; i < h.length; i++) {
                h[i] = act(a, h[i]);
            }
            return linear(h, rows, c.hidden(), p(s, pre + "fc2.weight"), p(s, pre + "fc2.bias"), c.dim());
        }
        double[] gt = linear(x, rows, c.dim(), p(s, pre + "gate_proj.weight"), p(s, pre + "gate_proj.bias"), c.hidden());
        double[] up = linear(x, rows, c.dim(), p(s, pre + "up_proj.weight"), p(s, pre + "up_proj.bias"), c.hidden());
        for (int i = 0; i < gt.length; i++) {
            gt[i] = act(a, gt[i]) * up[i];
        }
        return linear(gt, rows, c.hidden(), p(s, pre + "down_proj.weight"), p(s, pre + "down_proj.bias"), c.dim());
    }

    /** Rotates one head vector v (length D) at position m in place, pairs chosen by the convention. */
    public static void rope(double[] v, int off, int dim, int m, double base, RotaryEmbedding.Convention conv) {
        for (int i = 0; i < dim / 2; i++) {
            double theta = m * Math.pow(base, -2.0 * i / dim);
            int a = conv == RotaryEmbedding.Convention.INTERLEAVED ? 2 * i : i;
            int b = conv == RotaryEmbedding.Convention.INTERLEAVED ? 2 * i + 1 : i + dim / 2;
            double xa = v[off + a];
            double xb = v[off + b];
            v[off + a] = xa * Math.cos(theta) - xb * Math.sin(theta);
            v[off + b] = xb * Math.cos(theta) + xa * Math.sin(theta);
        }
    }

    /**
     * Full self-attention on x (B, T, C) (double, row-major) with the module's weights; key s is
     * visible to query t iff (!causal || s ≤ t) and the document ids agree.
     */
    public static double[] attention(MultiHeadAttention.Config c, double[] x, int batch, int t, Map<String, Tensor> s, String pre,
            boolean causal, long[][] docs) {
        int h = c.numHeads();
        int kvh = c.numKvHeads();
        int dh = c.headDim();
        int dim = c.dim();
        double[] out = new double[batch * t * h * dh];
        for (int b = 0; b < batch; b++) {
            double[] xb = java.util.Arrays.copyOfRange(x, b * t * dim, (b + 1) * t * dim);
            double[] q = linear(xb, t, dim, p(s, pre + "q_proj.weight"), p(s, pre + "q_proj.bias"), h * dh); // (T, H·D)
            double[] k = linear(xb, t, dim, p(s, pre + "k_proj.weight"), p(s, pre + "k_proj.bias"), kvh * dh);
            double[] v = linear(xb, t, dim, p(s, pre + "v_proj.weight"), p(s, pre + "v_proj.bias"), kvh * dh);
            if (c.qkNorm() != null) {
                q = norm(c.qkNorm(), q, dh, s, pre + "q_norm.", c.normEps());
                k = norm(c.qkNorm(), k, dh, s, pre + "k_norm.", c.normEps());
            }
            if (c.rope() != null) {
                for (int i = 0; i < t; i++) {
                    for (int hh = 0; hh < h; hh++) {
                        rope(q, (i * h + hh) * dh, dh, i, c.ropeBase(), c.rope());
                    }
                    for (int hh = 0; hh < kvh; hh++) {
                        rope(k, (i * kvh + hh) * dh, dh, i, c.ropeBase(), c.rope());
                    }
                }
            }
            for (int hh = 0; hh < h; hh++) {
                int g = hh / (h / kvh);
                for (int i = 0; i < t; i++) {
                    double[] sc = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        boolean ok = (!causal || j <= i) && (docs == null || docs[b][j] == docs[b][i]);
                        if (!ok) {
                            sc[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int e = 0; e < dh; e++) {
                            dot += q[(i * h + hh) * dh + e] * k[(j * kvh + g) * dh + e];
                        }
                        dot /= Math.sqrt(dh);
                        if (c.softCap() > 0) {
                            dot = c.softCap() * Math.tanh(dot / c.softCap());
                        }
                        sc[j] = dot;
                        max = Math.max(max, dot);
                    }
                    double z = 0;
                    for (int j = 0; j < t; j++) {
                        sc[j] = Math.exp(sc[j] - max);
                        z += sc[j];
                    }
                    for (int e = 0; e < dh; e++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) {
                            acc += sc[j] / z * v[(j * kvh + g) * dh + e];
                        }
                        out[((b * t + i) * h + hh) * dh + e] = acc;
                    }
                }
            }
        }
        return linear(out, batch * t, h * dh, p(s, pre + "o_proj.weight"), p(s, pre + "o_proj.bias"), dim);
    }

    public static void assertClose(double[] expected, Tensor actual, double tol) {
        double[] a = d(actual);
        assertEquals(expected.length, a.length, "length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < a.length; i++) {
            double diff = Math.abs(a[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(diff <= worst)) {
                worst = diff;
                at = i;
            }
        }
        if (!(worst <= tol)) {
            throw new AssertionError("worst relative difference " + worst + " at " + at + ": expected " + expected[at] + " got " + a[at]);
        }
    }

    public static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertClose(d(expected), actual, tol);
    }

    public static Variable var(Tensor t) {
        return Variable.of(t, true);
    }

    /** Gives norm weights (initialised to ones) random values so the reference really checks them. */
    public static void randomizeNorms(Module m, long seed) {
        long s = seed;
        for (var e : m.namedParameters().entrySet()) {
            if (e.getKey().contains("norm")) {
                e.getValue().data().copyFromInPlace(randn(s++, 0.5, e.getValue().shape()).add(1));
            }
        }
    }
}
