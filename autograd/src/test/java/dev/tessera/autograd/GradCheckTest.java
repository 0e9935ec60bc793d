package dev.tessera.autograd;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Every differentiable op's analytic gradient against central differences in F64. */
class GradCheckTest {

    @Provide
    Arbitrary<int[]> shapes() {
        return Inputs.shapes(0, 3);
    }

    @Provide
    Arbitrary<int[]> matrices() {
        return Inputs.shapes(1, 4);
    }

    @Provide
    Arbitrary<int[][]> pairs() {
        return Inputs.broadcastPairs();
    }

    @Provide
    Arbitrary<UnaryOp> differentiableUnary() {
        return Arbitraries.of(UnaryOp.class).filter(op -> op != UnaryOp.SIGN && op != UnaryOp.LOGICAL_NOT);
    }

    @Property(tries = 150)
    void unaryOps(@ForAll("differentiableUnary") UnaryOp op, @ForAll("shapes") int[] shape, @ForAll Inputs.Layout layout,
            @ForAll long seed) {
        Tensor x = switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> Inputs.make(shape, seed, layout, 0.2, 3);
            case LOG1P -> Inputs.make(shape, seed, layout, -0.5, 3);
            case ABS, RELU -> Inputs.awayFromZero(shape, seed, layout, 0.01);
            default -> Inputs.make(shape, seed, layout, -2.5, 2.5);
        };
        GradCheck.check(v -> v[0].apply(op), x);
    }

    @Provide
    Arbitrary<BinaryOp> arithmetic() {
        return Arbitraries.of(BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.POW, BinaryOp.MAXIMUM, BinaryOp.MINIMUM);
    }

    @Property(tries = 150)
    void binaryOpsWithBroadcasting(@ForAll("arithmetic") BinaryOp op, @ForAll("pairs") int[][] shapes, @ForAll boolean swap,
            @ForAll Inputs.Layout la, @ForAll Inputs.Layout lb, @ForAll long seed) {
        int[] sa = swap ? shapes[1] : shapes[0];
        int[] sb = swap ? shapes[0] : shapes[1];
        Tensor a = op == BinaryOp.POW ? Inputs.make(sa, seed, la, 0.3, 2) : Inputs.make(sa, seed, la, -2, 2);
        Tensor b = op == BinaryOp.DIV ? Inputs.awayFromZero(sb, seed + 1, lb, 0.5) : Inputs.make(sb, seed + 1, lb, -2, 2);
        GradCheck.check(v -> v[0].apply(op, v[1]), a, b);
    }

    enum Reduction { SUM, MEAN, MAX, MIN, PROD, VAR, STD, LOGSUMEXP, NORM2, NORM1, NORM3, NORM_1_5, NORM_HALF, NORM_INF }

    static Variable reduce(Reduction r, Variable x, int[] dims, boolean keep) {
        return switch (r) {
            case SUM -> x.sum(keep, dims);
            case MEAN -> x.mean(keep, dims);
            case MAX -> x.max(keep, dims);
            case MIN -> x.min(keep, dims);
            case PROD -> x.prod(keep, dims);
            case VAR -> x.var(1, keep, dims);
            case STD -> x.std(0, keep, dims);
            case LOGSUMEXP -> x.logsumexp(keep, dims);
            case NORM2 -> x.norm(2, keep, dims);
            case NORM1 -> x.norm(1, keep, dims);
            case NORM3 -> x.norm(3, keep, dims);
            case NORM_1_5 -> x.norm(1.5, keep, dims);
            case NORM_HALF -> x.norm(0.5, keep, dims);
            case NORM_INF -> x.norm(Double.POSITIVE_INFINITY, keep, dims);
        };
    }

    @Property(tries = 200)
    void reductions(@ForAll Reduction r, @ForAll("matrices") int[] shape, @ForAll @IntRange(min = 0, max = 15) int mask,
            @ForAll boolean keep, @ForAll Inputs.Layout layout, @ForAll long seed) {
        int[] dims = java.util.stream.IntStream.range(0, shape.length).filter(d -> (mask >> d & 1) == 1).toArray();
        long n = 1;
        for (int d = 0; d < shape.length; d++) {
            n *= dims.length == 0 || (mask >> d & 1) == 1 ? shape[d] : 1;
        }
        if ((r == Reduction.VAR || r == Reduction.STD) && n < 2) {
            return;
        }
        Tensor x = switch (r) {
            case PROD -> Inputs.make(shape, seed, layout, 0.5, 1.5);
            case NORM1, NORM3, NORM_1_5, NORM_HALF, NORM_INF -> Inputs.awayFromZero(shape, seed, layout, 0.05);
            default -> Inputs.make(shape, seed, layout, -2, 2);
        };
        GradCheck.check(v -> reduce(r, v[0], dims, keep), x);
    }

    @Test
    void prodWithZerosAndMaxWithTies() {
        Tensor oneZero = Tensor.of(new double[] {2, 0, 3, 1.5, 0.5, -1}).reshape(2, 3);
        GradCheck.check(v -> v[0].prod(false, 1), oneZero);
        Tensor twoZeros = Tensor.of(new double[] {0, 0, 3});
        Variable x = Variable.of(twoZeros, true);
        x.prod(false).backward();
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 0, 0}, x.grad().toDoubleArray());
        Variable t = Variable.of(Tensor.of(new double[] {1, 3, 3}), true);
        t.max(false).backward();
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 0.5, 0.5}, t.grad().toDoubleArray());
    }

    @Property(tries = 100)
    void softmaxLogSoftmaxCumsum(@ForAll("matrices") int[] shape, @ForAll Inputs.Layout layout, @ForAll long seed) {
        int dim = (int) Math.floorMod(seed, shape.length);
        Tensor x = Inputs.make(shape, seed, layout, -3, 3);
        GradCheck.check(v -> v[0].softmax(dim), x);
        GradCheck.check(v -> v[0].logSoftmax(dim), x);
        GradCheck.check(v -> v[0].cumsum(dim), x);
    }

    @Property(tries = 150)
    void matmulEveryForm(@ForAll @IntRange(min = 1, max = 4) int m, @ForAll @IntRange(min = 1, max = 4) int k,
            @ForAll @IntRange(min = 1, max = 4) int n, @ForAll @IntRange(min = 0, max = 8) int form, @ForAll boolean transA,
            @ForAll boolean transB, @ForAll long seed) {
        int[][] shapes = switch (form) {
            case 0 -> new int[][] {{m, k}, {k, n}};
            case 1 -> new int[][] {{k}, {k, n}};
            case 2 -> new int[][] {{m, k}, {k}};
            case 3 -> new int[][] {{2, m, k}, {2, k, n}};
            case 4 -> new int[][] {{3, m, k}, {k, n}};
            case 5 -> new int[][] {{2, 1, m, k}, {3, k, n}};
            case 6 -> new int[][] {{k}, {k}};
            case 7 -> new int[][] {{2, m, k}, {k}};
            default -> new int[][] {{k}, {2, k, n}};
        };
        Tensor a = Inputs.make(shapes[0], seed, transA ? Inputs.Layout.TRANSPOSED : Inputs.Layout.CONTIGUOUS, -1, 1);
        Tensor b = Inputs.make(shapes[1], seed + 1, transB ? Inputs.Layout.TRANSPOSED : Inputs.Layout.CONTIGUOUS, -1, 1);
        GradCheck.check(v -> v[0].matmul(v[1]), a, b);
    }

    @Test
    void squeezeOfAZeroDimVariableIsItselfAndPassesTheGradient() {
        Variable s = Variable.of(Tensor.scalar(1.5), true);
        Variable q = s.squeeze(0).squeeze(-1);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[0], q.shape());
        q.mul(3).backward();
        org.junit.jupiter.api.Assertions.assertEquals(3.0, s.grad().item());
    }

    /** A half Variable times or over a number agrees with Tensor's (the number kept in F32), forward and backward. */
    @Test
    void halfVariableMulAndDivByANumberKeepTheNumberInF32() {
        for (dev.tessera.tensor.DType dt : new dev.tessera.tensor.DType[] {dev.tessera.tensor.DType.BF16, dev.tessera.tensor.DType.F16}) {
            Tensor x = Tensor.rand(new dev.tessera.tensor.Generator(3), dev.tessera.tensor.DType.F64, 64).mul(8).sub(4).to(dt);
            Tensor up = Tensor.rand(new dev.tessera.tensor.Generator(4), dev.tessera.tensor.DType.F64, 64).sub(0.5).to(dt);
            for (boolean mul : new boolean[] {true, false}) {
                Variable v = Variable.of(x, true);
                Variable y = mul ? v.mul(0.1) : v.div(0.1);
                org.junit.jupiter.api.Assertions.assertArrayEquals((mul ? x.mul(0.1) : x.div(0.1)).toFloatArray(), y.data().toFloatArray());
                y.backward(up);
                org.junit.jupiter.api.Assertions.assertArrayEquals((mul ? up.mul(0.1) : up.div(0.1)).toFloatArray(), v.grad().toFloatArray());
            }
        }
    }

    @Test
    void dotProductOfTwoVectorsGivesEachTheOther() {
        Variable u = Variable.of(Tensor.of(new double[] {1, 2, 3}), true);
        Variable v = Variable.of(Tensor.of(new double[] {4, -5, 6}), true);
        Variable dot = u.matmul(v);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new int[0], dot.shape());
        dot.backward();
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {4, -5, 6}, u.grad().toDoubleArray());
        org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {1, 2, 3}, v.grad().toDoubleArray());
    }

    @Property(tries = 120)
    void views(@ForAll("matrices") int[] shape, @ForAll Inputs.Layout layout, @ForAll long seed,
            @ForAll @IntRange(min = 0, max = 12) int which) {
        Tensor x = Inputs.make(shape, seed, layout, -1, 1);
        int r = shape.length;
        int last = shape[r - 1];
        Function<Variable[], Variable> f = switch (which) {
            case 0 -> v -> v[0].reshape(-1);
            case 1 -> v -> v[0].permute(java.util.stream.IntStream.range(0, r).map(i -> r - 1 - i).toArray()).mul(v[0].permute(
                    java.util.stream.IntStream.range(0, r).map(i -> r - 1 - i).toArray()));
            case 2 -> v -> v[0].transpose(0, -1).contiguous();
            case 3 -> v -> v[0].unsqueeze(1).expand(withInserted(shape, 1, 3));
            case 4 -> v -> v[0].narrow(-1, last / 2, last - last / 2);
            case 5 -> v -> v[0].slice(-1, 0, last, 2);
            case 6 -> v -> v[0].select(0, shape[0] - 1);
            case 7 -> v -> r >= 2 ? v[0].diagonal(0, 0, -1) : v[0].square();
            case 8 -> v -> v[0].flatten(0, -1).unflatten(0, v[0].data().numel());
            case 9 -> v -> { Variable[] parts = v[0].chunk(2, -1); return Variable.cat(-1, parts[parts.length - 1], parts[0]); };
            case 10 -> v -> Variable.stack(0, v[0], v[0].mul(2));
            case 11 -> v -> v[0].unsqueeze(0).squeeze(0).view(shape);
            // masks from the unperturbed x and clamp bounds no input reaches: no kink within a finite-difference
            // step (a mask on the perturbed data flipped at an element near 0: numeric -420399 vs analytic -1.68)
            default -> v -> v[0].maskedFill(x.gt(0), 0.5).maskedFill(x.lt(-0.5), -3).clamp(-2, 0.25);
        };
        GradCheck.check(f, x);
    }

    static int[] withInserted(int[] shape, int at, int size) {
        int[] s = new int[shape.length + 1];
        System.arraycopy(shape, 0, s, 0, at);
        s[at] = size;
        System.arraycopy(shape, at, s, at + 1, shape.length - at);
        return s;
    }

    @Property(tries = 60)
    void whereSelectsGradients(@ForAll("pairs") int[][] shapes, @ForAll long seed) {
        Tensor a = Inputs.make(shapes[0], seed, Inputs.Layout.CONTIGUOUS, -1, 1);
        Tensor b = Inputs.make(shapes[1], seed + 1, Inputs.Layout.CONTIGUOUS, -1, 1);
        Tensor cond = Inputs.make(shapes[1], seed + 2, Inputs.Layout.CONTIGUOUS, -1, 1).gt(0);
        GradCheck.check(v -> Variable.where(cond, v[0], v[1]), a, b);
    }

    @Property(tries = 80)
    void indexingOps(@ForAll("matrices") int[] shape, @ForAll long seed, @ForAll @IntRange(min = 0, max = 5) int which) {
        Tensor x = Inputs.make(shape, seed, Inputs.Layout.CONTIGUOUS, -1, 1);
        int dim = (int) Math.floorMod(seed, shape.length);
        dev.tessera.tensor.Generator g = new dev.tessera.tensor.Generator(seed);
        int[] idxShape = shape.clone();
        idxShape[dim] = 3; // gather more positions than the dim has: repeats accumulate
        Tensor index = Tensor.randint(g, 0, shape[dim], dev.tessera.tensor.DType.I64, idxShape);
        Tensor rows = Tensor.randint(g, 0, shape[dim], dev.tessera.tensor.DType.I64, 5);
        Tensor src = Inputs.make(idxShape, seed + 3, Inputs.Layout.CONTIGUOUS, -1, 1);
        Tensor unique = Tensor.arange(shape[dim]);
        switch (which) {
            case 0 -> GradCheck.check(v -> v[0].gather(dim, index), x);
            case 1 -> GradCheck.check(v -> v[0].indexSelect(dim, rows), x);
            case 2 -> GradCheck.check(v -> v[0].scatterAdd(dim, index, v[1]), x, src);
            case 3 -> {
                // scatter with distinct targets along dim (duplicates make "last write wins" non-differentiable)
                int[] us = shape.clone();
                Tensor uniq = unique.reshape(shapeAt(shape.length, dim, shape[dim])).expand(shape).contiguous();
                Tensor s2 = Inputs.make(us, seed + 4, Inputs.Layout.CONTIGUOUS, -1, 1);
                GradCheck.check(v -> v[0].scatter(dim, uniq, v[1]), x, s2);
            }
            case 4 -> {
                Tensor table = Inputs.make(new int[] {shape[0], 3}, seed, Inputs.Layout.CONTIGUOUS, -1, 1);
                Tensor ids = Tensor.randint(g, 0, shape[0], dev.tessera.tensor.DType.I64, 2, 3);
                GradCheck.check(v -> v[0].embedding(ids), table);
            }
            default -> GradCheck.check(v -> shape.length >= 2 ? v[0].tril(0).add(v[0].triu(1).mul(3)) : v[0].mul(2), x);
        }
    }

    static int[] shapeAt(int rank, int dim, int size) {
        int[] s = new int[rank];
        java.util.Arrays.fill(s, 1);
        s[dim] = size;
        return s;
    }

    @Property(tries = 60)
    void fftOps(@ForAll @IntRange(min = 1, max = 12) int n, @ForAll @IntRange(min = 1, max = 3) int rows, @ForAll long seed,
            @ForAll boolean inverse) {
        if (!inverse) {
            Tensor x = Inputs.make(new int[] {rows, n}, seed, Inputs.Layout.CONTIGUOUS, -1, 1);
            GradCheck.check(v -> v[0].rfft(1), x);
            GradCheck.check(v -> v[0].rfft(0), x);
        } else {
            int bins = n / 2 + 1;
            Tensor spec = Inputs.make(new int[] {rows, bins, 2}, seed, Inputs.Layout.CONTIGUOUS, -1, 1);
            GradCheck.check(v -> v[0].irfft(n, 1), spec);
            GradCheck.check(v -> v[0].irfft(n + 3, 1), spec); // zero-padded bins
            if (n > 2) {
                GradCheck.check(v -> v[0].irfft(n - 2, 1), spec); // trimmed bins
            }
        }
    }

    @Test
    void mismatchIsReported() {
        // a deliberately wrong derivative through a custom function must be caught
        Function<Variable[], Variable> wrong = v -> Function1.apply(v[0]);
        assertThrows(GradCheck.Mismatch.class, () -> GradCheck.check(wrong, Tensor.of(new double[] {0.5, 1.5})));
    }

    /** y = x², with a backward that is off by a factor of 2. */
    static final class Function1 extends CustomFunction {
        static Variable apply(Variable x) {
            return new Function1().call(x);
        }

        @Override
        protected Tensor forward(Context ctx, Tensor... inputs) {
            ctx.save(inputs[0]);
            return inputs[0].square();
        }

        @Override
        protected Tensor[] backward(Context ctx, Tensor grad) {
            return new Tensor[] {grad.mul(ctx.saved(0))};
        }
    }
}
