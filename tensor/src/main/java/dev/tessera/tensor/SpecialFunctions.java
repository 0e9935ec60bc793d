package dev.tessera.tensor;

/** Scalar special functions in double precision, used by the kernels and their scalar twins. */
public final class SpecialFunctions {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

    private SpecialFunctions() {}

    /**
     * The error function to about 1e-15. Below |x| = 3 the series
     * erf(x) = 2/√π · e^{−x²} · Σ 2ⁿ x^{2n+1} / (1·3···(2n+1)) has only positive terms, so it does
     * not cancel; above, erfc comes from its continued fraction.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double ax = Math.abs(x);
        if (ax >= 6) {
            return Math.copySign(1.0, x);
        }
        if (ax < 3) {
            double term = ax;
            double sum = ax;
            double x2 = ax * ax;
            for (int n = 1; n < 200 && term > 1e-17 * sum; n++) {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            return Math.copySign(TWO_OVER_SQRT_PI * Math.exp(-x2) * sum, x);
        }
        return Math.copySign(1 - erfcContinuedFraction(ax), x);
    }

    /** erfc(x) for x ≥ 3: e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
    private static double erfcContinuedFraction(double x) {
        double f = x;
        for (int k = 60; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }

    /** GELU, erf form: x·Φ(x). */
    public static double geluErf(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /**
     * GELU, tanh approximation (GPT-2): ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), evaluated as
     * the equal x·σ(2u): 1 + tanh u cancels where tanh u → −1 (x below about −5), σ does not.
     */
    public static double geluTanh(double x) {
        return x * sigmoid(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x));
    }

    public static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    /** log(1 + eˣ) without overflow. */
    public static double softplus(double x) {
        return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }
}
