package dev.tessera.nn.ffn;

import dev.tessera.nn.Ref;
import dev.tessera.tensor.Tensor;
import java.util.Map;

/** DExTra's equations (the {@link Dextra} javadoc) for one token, index by index in doubles: the reference of the FFN and the mixer tests. */
public final class DextraRef {
    private DextraRef() {}

    /** DExTra of x (d_m) with the parameters {@code pre + "glt<l>_weight"} / {@code "_bias"} in {@code s}, widths dˡ and groups gˡ. */
    public static double[] dextra(Map<String, Tensor> s, String pre, int[] widths, int[] groups, double[] x) {
        int c = x.length;
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
                int g = groups[l];
                int ys = shuffled.length / g;
                int xs = c / g;
                z = new double[shuffled.length + c];
                for (int i = 0; i < g; i++) {
                    System.arraycopy(shuffled, i * ys, z, i * (ys + xs), ys);
                    System.arraycopy(x, i * xs, z, i * (ys + xs) + ys, xs);
                }
            }
            int g = groups[l];
            int in = z.length / g;
            int out = widths[l] / g;
            double[] w = Ref.p(s, pre + "glt" + l + "_weight");
            double[] b = Ref.p(s, pre + "glt" + l + "_bias");
            y = new double[widths[l]];
            for (int i = 0; i < g; i++) {
                for (int o = 0; o < out; o++) {
                    double a = b[i * out + o];
                    for (int k = 0; k < in; k++) {
                        a += z[i * in + k] * w[(i * in + k) * out + o];
                    }
                    y[i * out + o] = a;
                }
            }
        }
        return y;
    }
}
