package dev.tessera.tensor;

/** Scalar special functions in double precision, used by the kernels and their scalar twins. */
public final class SpecialFunctions {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double SQRT_PI = Math.sqrt(Math.PI);

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
        return Math.copySign(1 - erfcTail(ax, ax * ax, Math.fma(ax, ax, -ax * ax)), x);
    }

    /**
     * erfc(x) = 1 − erf(x) to about 1e-15 relative, also where it is tiny (erfc(26) ≈ 6e−296), which
     * 1 − erf cannot give: below x = 1 (erfc ≥ 0.157) it is 1 − erf(x), above the continued fraction.
     */
    public static double erfc(double x) {
        if (Double.isNaN(x) || x < 1) {
            return 1 - erf(x);
        }
        return erfcTail(x, x * x, Math.fma(x, x, -x * x));
    }

    /**
     * erfc(t) for t ≥ 1 from its continued fraction, e^{−t²}/√π · 1/(t + (1/2)/(t + 1/(t + (3/2)/(t + ...)))),
     * given t² as the unevaluated sum sqHi + sqLo (|sqLo| ≤ ulp(sqHi)/2): e^{−t²} is sensitive to the
     * rounding of t² (a relative error t²·ε), so e^{−sqHi}·(1 − sqLo) keeps it to an ulp or two. The
     * fraction converges slowly near t = 1: 200 terms reach 2e-16 there, 60 from t = 2. Zero past
     * t² = 746, where e^{−t²} is below the least subnormal.
     */
    private static double erfcTail(double t, double sqHi, double sqLo) {
        if (sqHi > 746) {
            return 0; // e^{−t²} underflows (also where t² overflows and sqLo is NaN)
        }
        double f = t;
        for (int k = t < 2 ? 200 : 60; k >= 1; k--) {
            f = t + (k / 2.0) / f;
        }
        return Math.exp(-sqHi) * (1 - sqLo) / SQRT_PI / f;
    }

    /**
     * GELU, erf form: x·Φ(x) = ½x(1 + erf(x/√2)). For x below −√2 that sum cancels (Φ(−3.75) ≈ 9e−5,
     * Φ(−20.5) ≈ 1e−93 come from a 1 minus a number near 1), so there it is ½x·erfc(−x/√2), with
     * (x/√2)² = x²/2 split exactly from x rather than squared from the rounded x/√2.
     */
    public static double geluErf(double x) {
        if (!(x < -Math.sqrt(2))) {
            return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
        }
        double sq = x * x;
        return 0.5 * x * erfcTail(-x / Math.sqrt(2), 0.5 * sq, 0.5 * Math.fma(x, x, -sq));
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
