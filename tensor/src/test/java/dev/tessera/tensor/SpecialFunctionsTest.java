package dev.tessera.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import org.junit.jupiter.api.Test;

/**
 * GELU's two forms in F64 against a 360-digit BigDecimal reference, where ½x(1 + erf) and
 * ½x(1 + tanh) cancel: for negative x the result is far below the 1 it is computed from
 * (gelu(−20.5) ≈ −1e−93), so a double formula of that shape loses every digit.
 */
class SpecialFunctionsTest {
    /** Enough digits for Φ(−37) ≈ 1e−300 after the series cancels against ½ (about 300 + 17 digits). */
    private static final int DIGITS = 360;
    private static final MathContext MC = new MathContext(DIGITS);
    private static final BigDecimal NEGLIGIBLE = BigDecimal.ONE.movePointLeft(DIGITS + 10);
    private static final BigDecimal PI = pi();
    /** Negative x from mild to deep in the tail (results down to about 1e−300), and a few others. */
    private static final double[] XS = {-0.5, -1.5, -2.5, -3.0, -3.75, -5.0, -8.0, -12.5, -20.5, -30.0, -37.0, 0.7, 3.75};

    /** eʸ: the Taylor series of e^{y/2^k} (|y/2^k| ≤ 1, all terms of one sign after 1/e for y &lt; 0), squared k times. */
    static BigDecimal exp(BigDecimal y) {
        if (y.signum() < 0) {
            return BigDecimal.ONE.divide(exp(y.negate()), MC);
        }
        int k = Math.max(0, y.toBigInteger().bitLength());
        BigDecimal r = y.divide(BigDecimal.valueOf(2).pow(k), MC);
        BigDecimal sum = BigDecimal.ONE;
        BigDecimal term = BigDecimal.ONE;
        for (int n = 1; term.compareTo(NEGLIGIBLE) > 0; n++) {
            term = term.multiply(r, MC).divide(BigDecimal.valueOf(n), MC);
            sum = sum.add(term, MC);
        }
        for (int i = 0; i < k; i++) {
            sum = sum.multiply(sum, MC);
        }
        return sum;
    }

    /** π by Machin's formula, 16·atan(1/5) − 4·atan(1/239). */
    static BigDecimal pi() {
        return atanInverse(5).multiply(BigDecimal.valueOf(16)).subtract(atanInverse(239).multiply(BigDecimal.valueOf(4)), MC);
    }

    private static BigDecimal atanInverse(int q) {
        BigDecimal x = BigDecimal.ONE.divide(BigDecimal.valueOf(q), MC);
        BigDecimal x2 = x.multiply(x, MC);
        BigDecimal power = x;
        BigDecimal sum = x;
        for (int n = 1; power.compareTo(NEGLIGIBLE) > 0; n++) {
            power = power.multiply(x2, MC);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = n % 2 == 1 ? sum.subtract(term, MC) : sum.add(term, MC);
        }
        return sum;
    }

    /**
     * Φ(x) = ½ + φ(x)·Σ x^{2n+1}/(1·3···(2n+1)) (the series has terms of one sign; for negative x it
     * cancels against ½, which {@link #DIGITS} absorb).
     */
    static BigDecimal normalCdf(double xd) {
        BigDecimal x = new BigDecimal(xd);
        BigDecimal x2 = x.multiply(x, MC);
        BigDecimal term = x;
        BigDecimal sum = x;
        for (int n = 1; term.abs().compareTo(sum.abs().movePointLeft(DIGITS + 5)) > 0; n++) {
            term = term.multiply(x2, MC).divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(term, MC);
        }
        BigDecimal phi = exp(x2.divide(BigDecimal.valueOf(-2), MC)).divide(PI.multiply(BigDecimal.valueOf(2)).sqrt(MC), MC);
        return new BigDecimal("0.5").add(phi.multiply(sum, MC), MC);
    }

    private static void assertRelative(String what, BigDecimal want, double got, double rtol) {
        double w = want.doubleValue();
        assertTrue(Math.abs(got - w) <= rtol * Math.abs(w), what + ": got " + got + ", want " + w + " (rel "
                + Math.abs(got - w) / Math.abs(w) + ")");
    }

    @Test
    void referenceAgreesWithStrictMathWhereNothingCancels() {
        assertEquals(Math.PI, PI.doubleValue());
        assertEquals(Math.exp(-3.5), exp(new BigDecimal(-3.5)).doubleValue(), Math.ulp(Math.exp(-3.5)));
        assertEquals(0.5, normalCdf(0).doubleValue());
        assertEquals(0.5 * (1 + SpecialFunctions.erf(1 / Math.sqrt(2))), normalCdf(1).doubleValue(), 1e-15);
    }

    /** gelu(x) = x·Φ(x) to 1e−14 relative everywhere, not only where 1 + erf(x/√2) keeps its digits. */
    @Test
    void geluErfIsRelativelyAccurateInTheNegativeTail() {
        for (double x : XS) {
            BigDecimal want = new BigDecimal(x).multiply(normalCdf(x), MC);
            assertRelative("geluErf(" + x + ")", want, SpecialFunctions.geluErf(x), 1e-14);
        }
    }

    /** Past the underflow of erfc (x below about −38.6) gelu is −0 even where x² overflows; gelu(−inf) is NaN, as PyTorch's −inf·0. */
    @Test
    void geluErfUnderflowsToMinusZero() {
        for (double x : new double[] {-40, -1e300, -Double.MAX_VALUE}) {
            assertEquals(-0.0, SpecialFunctions.geluErf(x), "geluErf(" + x + ")");
        }
        assertEquals(Double.NaN, SpecialFunctions.geluErf(Double.NEGATIVE_INFINITY));
        assertEquals(0.0, SpecialFunctions.erfc(1e200));
        assertEquals(2.0, SpecialFunctions.erfc(Double.NEGATIVE_INFINITY));
    }

    /**
     * gelu_tanh(x) = x·σ(2u) = x/(1 + e^{−2u}), u = √(2/π)(x + 0.044715x³) (the constant as the double
     * the code holds), to a few ε times the condition of σ(2u) in the tail, where a relative error δ in
     * 2u becomes |2u|·δ in the result (|2u| ≈ 647 at x = −20.5): u itself is a handful of roundings.
     */
    @Test
    void geluTanhIsRelativelyAccurateInTheNegativeTail() {
        BigDecimal c = BigDecimal.valueOf(2).divide(PI, MC).sqrt(MC);
        for (double x : XS) {
            BigDecimal bx = new BigDecimal(x);
            BigDecimal u = c.multiply(bx.add(new BigDecimal(0.044715).multiply(bx.pow(3), MC), MC), MC);
            BigDecimal want = bx.divide(BigDecimal.ONE.add(exp(u.multiply(BigDecimal.valueOf(-2), MC)), MC), MC);
            double cond = 1 + 2 * Math.abs(u.doubleValue());
            assertRelative("geluTanh(" + x + ")", want, SpecialFunctions.geluTanh(x), 8 * Math.ulp(1.0) * cond);
        }
    }
}
