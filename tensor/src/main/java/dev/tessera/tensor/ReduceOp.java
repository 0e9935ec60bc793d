package dev.tessera.tensor;

/** The closed set of reductions; mean, var, norm, logsumexp and softmax are built from these. */
public enum ReduceOp {
    SUM, PROD, MAX, MIN;

    double identity() {
        return switch (this) {
            case SUM -> 0;
            case PROD -> 1;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
    }

    double combine(double acc, double x) {
        return switch (this) {
            case SUM -> acc + x;
            case PROD -> acc * x;
            case MAX -> Double.isNaN(acc) || x > acc || Double.isNaN(x) ? (Double.isNaN(acc) ? acc : x) : acc;
            case MIN -> Double.isNaN(acc) || x < acc || Double.isNaN(x) ? (Double.isNaN(acc) ? acc : x) : acc;
        };
    }

    public String opName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
