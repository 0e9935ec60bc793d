package dev.tessera.nn.ffn;

import dev.tessera.nn.Ref;
import dev.tessera.tensor.Tensor;
import java.util.Map;

/** DExTra's equations (the {@link Dextra} javadoc) for one token, index by index in doubles: the reference of the FFN and the mixer tests. */
public final class DextraRef {
    private DextraRef() {}

    /** DExTra of x (d_m) with the parameters {@code pre + "glt<l>_weight"} / {@code "_bias"} in {@code s}, widths dˡ and groups gˡ. */
    public static double[] dextra(Map<String, Tensor> s, String pre, int[] widths, int[] groups, double[] x) {
        double[] y = null;
        for (int l = 0; l < widths.length; l++) {
            double[] z;
            if (l == 0) {
                z = x;
            } else {
                int gp = groups[l - 1];
                double[] shuffled = new double[y.length];
                int per = y.length / gp;
                for (int j = 0; j < per; j++) {
                    for (int i = 0; i < gp; i++) {
                        shuffled[j * gp + i] = y[i * per + j]; // (g, d/g) read as (d/g, g)
                    }
                }
                z = mix(x, shuffled, groups[l]);
            }
            y = groupLinear(z, Ref.p(s, pre + "glt" + l + "_weight"), Ref.p(s, pre + "glt" + l + "_bias"), groups[l], widths[l]);
        }
        return y;
    }

    /** The input mixer H(x, y): x and y each split in g groups, group i of the result is [y_i ; x_i]. */
    public static double[] mix(double[] x, double[] y, int g) {
        int ys = y.length / g;
        int xs = x.length / g;
        double[] z = new double[y.length + x.length];
        for (int i = 0; i < g; i++) {
            System.arraycopy(y, i * ys, z, i * (ys + xs), ys);
            System.arraycopy(x, i * xs, z, i * (ys + xs) + ys, xs);
        }
        return z;
    }

    /** The group linear transform of z in g groups to {@code width}, weight (g, in/g, width/g) and bias (width) flat. */
    public static double[] groupLinear(double[] z, double[] w, double[] b, int g, int width) {
        int in = z.length / g;
        int out = width / g;
        double[] y = new double[width];
        for (int i = 0; i < g; i++) {
            for (int o = 0; o < out; o++) {
                double a = b[i * out + o];
                for (int k = 0; k < in; k++) {
                    a += z[i * in + k] * w[(i * in + k) * out + o];
                }
                y[i * out + o] = a;
            }
        }
        return y;
    }
}
