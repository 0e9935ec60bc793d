package dev.tessera.tensor;

/** The closed set of elementwise two-input ops; comparisons and logical ops produce BOOL. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR;

    /** Reference semantics in double precision (comparisons give 0 or 1). */
    public double apply(double a, double b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> pow(a, b);
            case MAXIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
            case MINIMUM -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case LOGICAL_AND -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> a != 0 || b != 0 ? 1 : 0;
        };
    }

    /**
     * aᵇ as C99/IEEE 754 pow and PyTorch define it. Java's Math.pow differs at three special values,
     * fixed here: pow(1, y) = 1 for every y (Java: NaN for y = ±inf or NaN), pow(−1, ±inf) = 1
     * (Java: NaN), and pow(x, ±0) = 1 for every x (Java agrees). Everywhere else they agree.
     */
    static double pow(double a, double b) {
        if (a == 1 || b == 0 || (a == -1 && Double.isInfinite(b))) {
            return 1;
        }
        return Math.pow(a, b);
    }

    long applyLong(long a, long b) {
        return switch (this) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> throw new IllegalStateException("integer division promotes to float");
            case POW -> {
                if (b < 0) {
                    throw new IllegalArgumentException("pow: integers to negative powers are not allowed");
                }
                long r = 1;
                for (long e = b, base = a; e > 0; e >>= 1, base *= base) {
                    if ((e & 1) == 1) {
                        r *= base;
                    }
                }
                yield r;
            }
            case MAXIMUM -> Math.max(a, b);
            case MINIMUM -> Math.min(a, b);
            case EQ -> a == b ? 1 : 0;
            case NE -> a != b ? 1 : 0;
            case LT -> a < b ? 1 : 0;
            case LE -> a <= b ? 1 : 0;
            case GT -> a > b ? 1 : 0;
            case GE -> a >= b ? 1 : 0;
            case LOGICAL_AND -> a != 0 && b != 0 ? 1 : 0;
            case LOGICAL_OR -> a != 0 || b != 0 ? 1 : 0;
        };
    }

    /** True for ops whose result is BOOL whatever the inputs. */
    public boolean isPredicate() {
        return switch (this) {
            case EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR -> true;
            default -> false;
        };
    }

    public String opName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
