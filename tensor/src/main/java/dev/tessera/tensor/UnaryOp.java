package dev.tessera.tensor;

/**
 * The closed set of elementwise one-input ops. Each constant's {@link #apply(double)} is the
 * scalar definition every kernel (SIMD, GPU) is tested against; autograd keys its derivative table
 * on this enum.
 */
public enum UnaryOp {
    NEG, EXP, LOG, LOG1P, EXPM1, SQRT, RSQRT, ABS, SIGN, SIN, COS, TANH, SIGMOID, RELU, GELU_ERF, GELU_TANH,
    SILU, SOFTPLUS, ERF, LOGICAL_NOT, SQUARE, RECIPROCAL;

    /** Reference semantics in double precision. */
    public double apply(double x) {
        return switch (this) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case LOG1P -> Math.log1p(x);
            case EXPM1 -> Math.expm1(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIGN -> x > 0 ? 1 : x < 0 ? -1 : 0; // PyTorch's (0 < x) − (x < 0): NaN and ±0 give +0
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> SpecialFunctions.sigmoid(x);
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0);
            case GELU_ERF -> SpecialFunctions.geluErf(x);
            case GELU_TANH -> SpecialFunctions.geluTanh(x);
            case SILU -> x * SpecialFunctions.sigmoid(x);
            case SOFTPLUS -> SpecialFunctions.softplus(x);
            case ERF -> SpecialFunctions.erf(x);
            case LOGICAL_NOT -> x == 0 ? 1 : 0;
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    /** Integer semantics for the ops that stay integral on integer tensors. */
    long applyLong(long x) {
        return switch (this) {
            case NEG -> -x;
            case ABS -> Math.abs(x);
            case SIGN -> Long.signum(x);
            case RELU -> Math.max(x, 0);
            case SQUARE -> x * x;
            case LOGICAL_NOT -> x == 0 ? 1 : 0;
            default -> throw new IllegalStateException(this + " has no integer form");
        };
    }

    /** Whether integer inputs give an integer result (otherwise they are promoted to F32). */
    boolean keepsIntegers() {
        return switch (this) {
            case NEG, ABS, SIGN, RELU, SQUARE, LOGICAL_NOT -> true;
            default -> false;
        };
    }

    public String opName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
