package example.custom;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.autograd.GradCheck;
import dev.tessera.autograd.Variable;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Generator;
import dev.tessera.tensor.Tensor;

/**
 * A user-defined differentiable op: SiLU (swish), y = x·σ(x), written as one forward and one
 * hand-derived backward, dy/dx = σ(x)·(1 + x·(1 − σ(x))). The backward is checked against central
 * finite differences in F64 (GradCheck) and the op against the same formula built from autograd's
 * own primitives. Runs on the class path (see run-all.sh for the flags). Exits with status 1 on any
 * mismatch.
 */
public final class Main {
    /** SiLU with its derivative written by hand; saves σ(x) so backward needs no second exp. */
    static final class Silu extends CustomFunction {
        @Override
        protected Tensor forward(Context ctx, Tensor... in) {
            Tensor x = in[0];
            Tensor s = x.sigmoid();
            ctx.save(x, s);
            return x.mul(s);
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor gradOut) {
            Tensor x = ctx.saved(0);
            Tensor s = ctx.saved(1);
            Tensor local = s.mul(x.mul(s.rsub(1)).add(1)); // σ(x)·(1 + x·(1 − σ(x)))
            return new Tensor[] {gradOut.mul(local)};
        }
    }

    public static void main(String[] args) {
        Generator g = new Generator(7);
        Tensor x = Tensor.randn(g, DType.F64, 4, 5);

        // 1. the hand-written backward agrees with central differences (throws GradCheck.Mismatch otherwise)
        GradCheck.check(v -> new Silu().call(v[0]), x);

        // 2. the op and its gradient equal the composite of autograd primitives
        Variable a = Variable.of(x, true);
        Variable custom = new Silu().call(a);
        custom.sum().backward();
        Variable b = Variable.of(x, true);
        Variable composite = b.mul(b.sigmoid());
        composite.sum().backward();
        double valueDiff = maxAbsDiff(custom.data(), composite.data());
        double gradDiff = maxAbsDiff(a.grad(), b.grad());

        // 3. 0-d versus 1-d: one value without a shape is a 0-d tensor (like torch.tensor(2.5)); give the shape for [1]
        Tensor scalar = Tensor.of(new double[] {2.5});
        Tensor vector = Tensor.of(new double[] {2.5}, 1);
        boolean shapesAsDocumented = scalar.shape().length == 0 && vector.shape().length == 1
                && scalar.getDouble() == 2.5 && vector.getDouble(0) == 2.5;

        System.out.printf("custom-function: SiLU gradcheck passed; |custom - composite| value %.1e, grad %.1e%n",
                valueDiff, gradDiff);
        if (!(valueDiff < 1e-12 && gradDiff < 1e-12 && shapesAsDocumented)) {
            System.err.println("custom-function: mismatch (value " + valueDiff + ", grad " + gradDiff
                    + ", 0-d/1-d shapes as documented: " + shapesAsDocumented + ")");
            System.exit(1);
        }
    }

    private static double maxAbsDiff(Tensor p, Tensor q) {
        return p.sub(q).abs().max(false).getDouble(); // no dims: over every element, 0-d
    }
}
