package dev.tessera.autograd;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.Arrays;

/**
 * The derivative table of the elementwise primitives: one exhaustive {@code switch} per op enum,
 * so a new op without a derivative does not compile, and any gradient is one search away (the
 * way PyTorch keeps {@code derivatives.yaml}). Here g is the output gradient, x the input, y the
 * output.
 */
final class Derivatives {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    private Derivatives() {}

    /** dL/dx for y = op(x). */
    static Tensor unaryGrad(UnaryOp op, Tensor g, Tensor x, Tensor y) {
        return switch (op) {
            case NEG -> g.neg();
            case EXP -> g.mul(y);                                     // e^x
            case LOG -> g.div(x);                                     // 1/x
            case LOG1P -> g.div(x.add(1));                            // 1/(1+x)
            case EXPM1 -> g.mul(y.add(1));                            // e^x
            case SQRT -> g.div(y.mul(2));                             // 1/(2√x)
            case RSQRT -> g.mul(y.mul(y).mul(y).mul(-0.5));           // −½ x^{−3/2}
            case ABS -> g.mul(x.sign());
            case SIGN, LOGICAL_NOT -> null;                           // piecewise constant
            case SIN -> g.mul(x.cos());
            case COS -> g.mul(x.sin().neg());
            case TANH -> g.mul(y.square().neg().add(1));              // 1 − tanh²
            case SIGMOID -> g.mul(y.mul(y.neg().add(1)));             // σ(1 − σ)
            // threshold_backward(g, y, 0), as PyTorch: 0 where y ≤ 0 (so at x = 0 too), else g; a NaN input passes g
            case RELU -> Tensor.where(y.le(Tensor.scalar(0, y.dtype())), Tensor.scalar(0, g.dtype()), g);
            case GELU_ERF -> {                                        // Φ(x) + x·φ(x)
                Tensor cdf = x.div(Math.sqrt(2)).erf().add(1).mul(0.5);
                Tensor pdf = x.square().mul(-0.5).exp().mul(INV_SQRT_2PI);
                yield g.mul(cdf.add(x.mul(pdf)));
            }
            case GELU_TANH -> {                                       // ½(1+t) + ½x(1−t²)·√(2/π)(1 + 3·0.044715x²)
                Tensor t = x.add(x.mul(x).mul(x).mul(0.044715)).mul(SQRT_2_OVER_PI).tanh();
                Tensor inner = x.square().mul(3 * 0.044715).add(1).mul(SQRT_2_OVER_PI);
                yield g.mul(t.add(1).mul(0.5).add(x.mul(0.5).mul(t.square().neg().add(1)).mul(inner)));
            }
            case SILU -> {                                            // σ(x)(1 + x(1 − σ(x)))
                Tensor s = x.sigmoid();
                yield g.mul(s.mul(x.mul(s.neg().add(1)).add(1)));
            }
            case SOFTPLUS -> g.mul(x.sigmoid());
            case ERF -> g.mul(x.square().neg().exp().mul(2 / Math.sqrt(Math.PI)));
            case SQUARE -> g.mul(x.mul(2));
            case RECIPROCAL -> g.mul(y.square().neg());               // −1/x²
        };
    }

    /** {dL/da, dL/db} for y = op(a, b), before reducing broadcast dims. */
    static Tensor[] binaryGrad(BinaryOp op, Tensor g, Tensor a, Tensor b, Tensor y) {
        return switch (op) {
            case ADD -> new Tensor[] {g, g};
            case SUB -> new Tensor[] {g, g.neg()};
            case MUL -> new Tensor[] {g.mul(b), g.mul(a)};
            case DIV -> new Tensor[] {g.div(b), g.mul(y).div(b).neg()};   // −a/b²
            case POW -> {
                // d/da = b·a^(b−1), 0 where b = 0 even at a = 0 (a^0 is constant; 0·0^(−1) would be NaN);
                // d/db = y·ln a, as torch's pow_backward_exponent: 0 where a = 0 and b ≥ 0 (y = 0 there),
                // NaN where a < 0 (ln of a negative number), −∞ where a = 0 and b < 0
                Tensor zero = Tensor.scalar(0, g.dtype());
                Tensor da = g.mul(Tensor.where(b.eq(0), zero, b.mul(a.pow(b.sub(1)))));
                Tensor zeroResult = a.eq(0).logicalAnd(b.ge(Tensor.scalar(0, b.dtype())));
                Tensor db = g.mul(Tensor.where(zeroResult, zero, y.mul(a.log())));
                yield new Tensor[] {da, db};
            }
            case MAXIMUM, MINIMUM -> {
                // as derivatives.yaml: where(a == b, g/2, g), masked to 0 for the input that loses;
                // ties split g, and a NaN on either side fails every comparison, so both get all of g
                Tensor shared = Tensor.where(a.eq(b), g.mul(0.5), g);
                Tensor zero = Tensor.scalar(0, g.dtype());
                Tensor aLoses = op == BinaryOp.MAXIMUM ? a.lt(b) : a.gt(b);
                Tensor bLoses = op == BinaryOp.MAXIMUM ? a.gt(b) : a.lt(b);
                yield new Tensor[] {Tensor.where(aLoses, zero, shared), Tensor.where(bLoses, zero, shared)};
            }
            case EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR -> new Tensor[] {null, null};
        };
    }

    /** What {@link #unaryGrad} reads, so the version check guards exactly that (as PyTorch saves only what it needs). */
    static Tensor[] unarySaved(UnaryOp op, Tensor x, Tensor y) {
        return switch (op) {
            case NEG, SIGN, LOGICAL_NOT -> new Tensor[0];
            case EXP, EXPM1, SQRT, RSQRT, TANH, SIGMOID, RECIPROCAL, RELU -> new Tensor[] {y};
            case LOG, LOG1P, ABS, SIN, COS, GELU_ERF, GELU_TANH, SILU, SOFTPLUS, ERF, SQUARE -> new Tensor[] {x};
        };
    }

    static Tensor[] binarySaved(BinaryOp op, Tensor a, Tensor b, Tensor y) {
        return switch (op) {
            case ADD, SUB, EQ, NE, LT, LE, GT, GE, LOGICAL_AND, LOGICAL_OR -> new Tensor[0];
            case MUL, MAXIMUM, MINIMUM -> new Tensor[] {a, b};
            case DIV -> new Tensor[] {b, y};
            case POW -> new Tensor[] {a, b, y};
        };
    }

    static Variable unary(UnaryOp op, Variable x) {
        Tensor in = x.data();
        Tensor out = in.apply(op);
        Tensor[] saved = unarySaved(op, in, out);
        Tensor keptIn = keepIf(in, saved);
        Tensor keptOut = keepIf(out, saved); // the closure holds only what backward reads
        int[] shape = in.shape();
        DType dtype = in.dtype();
        return Variable.record(op.opName(), out, g -> {
            Tensor grad = unaryGrad(op, g, keptIn, keptOut);
            return new Tensor[] {grad == null ? Tensor.zeros(g.device(), dtype, shape) : grad};
        }, saved, x);
    }

    static Variable binary(BinaryOp op, Variable a, Variable b) {
        Tensor x = a.data();
        Tensor z = b.data();
        Tensor out = x.apply(op, z);
        Tensor[] saved = binarySaved(op, x, z, out);
        Tensor keptA = keepIf(x, saved);
        Tensor keptB = keepIf(z, saved);
        Tensor keptOut = keepIf(out, saved);
        int[] shapeA = x.shape();
        int[] shapeB = z.shape();
        DType typeA = x.dtype();
        DType typeB = z.dtype();
        return Variable.record(op.opName(), out, g -> {
            Tensor[] grads = binaryGrad(op, g, keptA, keptB, keptOut);
            return new Tensor[] {sumToShape(grads[0], shapeA, typeA), sumToShape(grads[1], shapeB, typeB)};
        }, saved, a, b);
    }

    /**
     * x·s or x/s for a number s, forward and backward through Tensor's mul/div by a number: on
     * BF16/F16 the number stays in F32, as PyTorch's kernels keep it, rather than being rounded to
     * the half type as a lifted 0-d tensor would be.
     */
    static Variable scaled(BinaryOp op, Variable x, double s) {
        boolean mul = switch (op) {
            case MUL -> true;
            case DIV -> false;
            default -> throw new IllegalArgumentException(op.opName() + ": not a scaling op");
        };
        Tensor out = mul ? x.data().mul(s) : x.data().div(s);
        return Variable.record(op.opName(), out, g -> new Tensor[] {mul ? g.mul(s) : g.div(s)}, new Tensor[0], x);
    }

    /** Clamp passes the gradient where min ≤ x ≤ max (PyTorch's convention at the bounds). */
    static Variable clamp(Variable x, double min, double max) {
        Tensor in = x.data();
        Tensor out = in.clamp(min, max);
        return Variable.record("clamp", out, g -> {
            Tensor inside = Tensor.zeros(in.device(), DType.BOOL, in.shape()).fillInPlace(1);
            if (!Double.isNaN(min)) {
                inside = inside.logicalAnd(in.ge(Tensor.scalar(min, in.dtype())));
            }
            if (!Double.isNaN(max)) {
                inside = inside.logicalAnd(in.le(Tensor.scalar(max, in.dtype())));
            }
            return new Tensor[] {g.mul(inside.to(g.dtype()))};
        }, new Tensor[] {in}, x);
    }

    static Variable where(Tensor condition, Variable a, Variable b) {
        Tensor out = Tensor.where(condition, a.data(), b.data());
        Tensor zero = Tensor.scalar(0, out.dtype());
        int[] sa = a.data().shape();
        int[] sb = b.data().shape();
        return Variable.record("where", out, g -> new Tensor[] {
            sumToShape(Tensor.where(condition, g, zero), sa, a.dtype()),
            sumToShape(Tensor.where(condition, zero, g), sb, b.dtype())}, new Tensor[] {condition}, a, b);
    }

    /** Reduces a broadcast gradient back to {@code shape} (sums leading dims and dims that were 1). */
    static Tensor sumToShape(Tensor g, int[] shape, DType dtype) {
        if (g == null) {
            return null;
        }
        Tensor r = g;
        int[] gs = g.shape();
        if (!Arrays.equals(gs, shape)) {
            int lead = gs.length - shape.length;
            int[] dims = java.util.stream.IntStream.range(0, gs.length)
                    .filter(d -> d < lead || (shape[d - lead] == 1 && gs[d] != 1)).toArray();
            r = dims.length == 0 ? g : g.sum(true, dims);
            r = r.reshape(shape);
        }
        return r.dtype() == dtype ? r : r.to(dtype);
    }

    private static Tensor keepIf(Tensor t, Tensor[] saved) {
        for (Tensor s : saved) {
            if (s == t) {
                return t;
            }
        }
        return null;
    }
}
