package dev.tessera.nn;

import dev.tessera.autograd.GradMode;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;

/**
 * Finite-difference check of the gradients of a module's parameters and inputs (leaves the
 * function closes over). Loss L = Σ f() ⊙ R with a fixed random R; each leaf element is moved by
 * ±ε in place and the difference quotient divides by the step actually stored, so F32 leaves
 * (e.g. Linear's bias) are checked correctly too.
 */
public final class ParamGradCheck {
    private ParamGradCheck() {}

    public static void check(Supplier<Variable> f, Collection<Variable> leaves) {
        check(f, leaves, 1e-5, 1e-3);
    }

    public static void check(Supplier<Variable> f, Collection<Variable> leaves, double atol, double rtol) {
        for (Variable v : leaves) {
            v.zeroGrad();
        }
        Variable out = f.get();
        if (out.dtype() != DType.F64) {
            throw new IllegalArgumentException("ParamGradCheck: output must be F64, got " + out.dtype());
        }
        Tensor r = Tensor.randn(new Generator(99), DType.F64, out.shape());
        out.mul(Variable.constant(r)).sum().backward();
        int which = 0;
        for (Variable v : leaves) {
            Tensor x = v.data();
            double[] analytic = v.grad() == null ? new double[x.numel()] : v.grad().contiguous().toDoubleArray();
            int[] shape = x.shape();
            for (int k = 0; k < x.numel(); k++) {
                int[] idx = unravel(k, shape);
                double orig = x.getDouble(idx);
                double eps = 1e-6 * Math.max(1, Math.abs(orig));
                x.set(orig + eps, idx);
                double up = x.getDouble(idx);
                double lp = loss(f, r);
                x.set(orig - eps, idx);
                double dn = x.getDouble(idx);
                double lm = loss(f, r);
                x.set(orig, idx);
                double numeric = (lp - lm) / (up - dn);
                double diff = Math.abs(numeric - analytic[k]);
                if (!(diff <= atol + rtol * Math.abs(numeric))) {
                    throw new AssertionError("grad mismatch in leaf " + which + " " + java.util.Arrays.toString(shape) + " element " + k
                            + ": analytic " + analytic[k] + " numeric " + numeric);
                }
            }
            which++;
        }
    }

    private static double loss(Supplier<Variable> f, Tensor r) {
        try (var s = GradMode.noGrad()) {
            return f.get().data().mul(r).sum().item();
        }
    }

    private static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    /** The leaves of a check: a module's parameters followed by its inputs. */
    public static List<Variable> concat(List<Variable> a, Variable... more) {
        List<Variable> out = new ArrayList<>(a);
        out.addAll(List.of(more));
        return out;
    }
}
