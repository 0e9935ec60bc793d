package dev.tessera.nn.attention;

/**
 * Plain double-loop matrices for the Nyström-family references (B17 Nyström, B21 SOFT): products,
 * row softmax, segment means and the Newton–Schulz style pseudo-inverse iterations, written out
 * independently of the kernels' tensor code.
 */
final class NystromReference {
    private NystromReference() {}

    /** Rows of (b, h) of a contiguous (B, H, L, D) array as an L×D matrix. */
    static double[][] matrix(double[] x, int[] shape, int b, int h) {
        double[][] m = new double[shape[2]][];
        for (int i = 0; i < shape[2]; i++) {
            m[i] = AttentionReference.row(x, shape, b, h, i);
        }
        return m;
    }

    static double[][] mul(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    static double[][] scale(double[][] a, double s) {
        double[][] c = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                c[i][j] = a[i][j] * s;
            }
        }
        return c;
    }

    /** c·I − a. */
    static double[][] eyeMinus(double c, double[][] a) {
        double[][] r = scale(a, -1);
        for (int i = 0; i < a.length; i++) {
            r[i][i] += c;
        }
        return r;
    }

    static double[][] softmaxRows(double[][] a) {
        double[][] r = new double[a.length][a[0].length];
        for (int i = 0; i < a.length; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (double x : a[i]) {
                max = Math.max(max, x);
            }
            for (int j = 0; j < a[i].length; j++) {
                r[i][j] = Math.exp(a[i][j] - max);
                sum += r[i][j];
            }
            for (int j = 0; j < a[i].length; j++) {
                r[i][j] /= sum;
            }
        }
        return r;
    }

    /** The m means of contiguous segments [⌊i·L/m⌋, ⌊(i+1)·L/m⌋) of the L rows of x. */
    static double[][] segmentMeans(double[][] x, int m) {
        int l = x.length;
        double[][] r = new double[m][x[0].length];
        for (int i = 0; i < m; i++) {
            int lo = i * l / m, hi = (i + 1) * l / m;
            for (int j = lo; j < hi; j++) {
                for (int c = 0; c < x[0].length; c++) {
                    r[i][c] += x[j][c] / (hi - lo);
                }
            }
        }
        return r;
    }

    /** The largest absolute column sum ‖a‖₁ times the largest absolute row sum ‖a‖_∞. */
    static double norm1TimesNormInf(double[][] a) {
        double n1 = 0, nInf = 0;
        for (int j = 0; j < a[0].length; j++) {
            double s = 0;
            for (double[] row : a) {
                s += Math.abs(row[j]);
            }
            n1 = Math.max(n1, s);
        }
        for (double[] row : a) {
            double s = 0;
            for (double x : row) {
                s += Math.abs(x);
            }
            nInf = Math.max(nInf, s);
        }
        return n1 * nInf;
    }

    /** Nyströmformer's iteration from Z₀ = aᵀ/(‖a‖₁‖a‖_∞): Z ← ¼ Z (13I − aZ (15I − aZ (7I − aZ))). */
    static double[][] nystromPinv(double[][] a, int iterations) {
        double[][] z = scale(transpose(a), 1 / norm1TimesNormInf(a));
        for (int i = 0; i < iterations; i++) {
            double[][] az = mul(a, z);
            z = mul(scale(z, 0.25), eyeMinus(13, mul(az, eyeMinus(15, mul(az, eyeMinus(7, az))))));
        }
        return z;
    }
}
