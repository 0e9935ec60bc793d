package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Function;

/**
 * Compares analytic gradients with central finite differences in F64, as PyTorch's gradcheck
 * does (eps 1e-6, atol 1e-5, rtol 1e-3). A non-scalar output is reduced with a fixed random
 * projection L = Σ out ⊙ R, so every output element's gradient is exercised.
 */
public final class GradCheck {
    public static final double EPS = 1e-6;
    public static final double ATOL = 1e-5;
    public static final double RTOL = 1e-3;

    private GradCheck() {}

    /** Thrown with the worst mismatch: which input, which element, analytic vs numeric. */
    public static final class Mismatch extends AssertionError {
        Mismatch(String message) {
            super(message);
        }
    }

    /** Checks every input's gradient; inputs must be F64 (converted copies are made otherwise). */
    public static void check(Function<Variable[], Variable> fn, Tensor... inputs) {
        check(fn, ATOL, RTOL, inputs);
    }

    public static void check(Function<Variable[], Variable> fn, double atol, double rtol, Tensor... inputs) {
        Tensor[] xs = new Tensor[inputs.length];
        Variable[] vars = new Variable[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            xs[i] = inputs[i].to(DType.F64).copy();
            vars[i] = Variable.of(xs[i], true);
        }
        Variable out = fn.apply(vars);
        if (out.dtype() != DType.F64) {
            throw new IllegalArgumentException("gradcheck: the function must keep F64, got " + out.dtype());
        }
        Tensor projection = Tensor.randn(new Generator(1234), DType.F64, out.shape());
        if (!out.requiresGrad()) {
            throw new Mismatch("gradcheck: output does not require grad (no input reached it)");
        }
        out.mul(Variable.constant(projection)).sum().backward();
        for (int i = 0; i < xs.length; i++) {
            Tensor analytic = vars[i].grad() == null ? Tensor.zeros(DType.F64, xs[i].shape()) : vars[i].grad();
            double[] numeric = numericGradient(fn, xs, i, projection);
            double[] got = analytic.toDoubleArray();
            for (int k = 0; k < numeric.length; k++) {
                double diff = Math.abs(got[k] - numeric[k]);
                if (!(diff <= atol + rtol * Math.abs(numeric[k]))) {
                    throw new Mismatch("gradcheck: input " + i + " of shape " + Arrays.toString(xs[i].shape()) + ", element " + k
                            + ": analytic " + got[k] + " vs numeric " + numeric[k] + " (|diff| " + diff + ")");
                }
            }
        }
    }

    private static double[] numericGradient(Function<Variable[], Variable> fn, Tensor[] xs, int which, Tensor projection) {
        Tensor x = xs[which];
        int n = x.numel();
        double[] grad = new double[n];
        try (var scope = GradMode.noGrad()) {
            for (int k = 0; k < n; k++) {
                int[] idx = unravel(k, x.shape());
                double original = x.getDouble(idx);
                x.set(original + EPS, idx);
                double plus = loss(fn, xs, projection);
                x.set(original - EPS, idx);
                double minus = loss(fn, xs, projection);
                x.set(original, idx);
                grad[k] = (plus - minus) / (2 * EPS);
            }
        }
        return grad;
    }

    private static double loss(Function<Variable[], Variable> fn, Tensor[] xs, Tensor projection) {
        Variable[] vars = new Variable[xs.length];
        for (int i = 0; i < xs.length; i++) {
            vars[i] = Variable.constant(xs[i]);
        }
        return fn.apply(vars).data().mul(projection).sum().item();
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }
}
