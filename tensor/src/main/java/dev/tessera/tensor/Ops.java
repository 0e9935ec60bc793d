package dev.tessera.tensor;

import java.util.Arrays;

/** Dtype promotion and dispatch for the elementwise ops; the kernels live in {@link Elementwise}. */
final class Ops {
    private Ops() {}

    /** {@code t} in compute type {@code c}, on array storage (converting or copying only when needed). */
    static Tensor materialize(Tensor t, DType c) {
        if (t.dtype() == c && t.storage().array() != null) {
            return t;
        }
        Tensor out = Tensor.zeros(c, t.shape());
        Copy.copy(t, out);
        return out;
    }

    private static DType unaryResult(UnaryOp op, DType in) {
        if (op == UnaryOp.LOGICAL_NOT) {
            return DType.BOOL;
        }
        if (in.isFloating()) {
            return in;
        }
        // PyTorch keeps BOOL where the op maps {0, 1} onto itself: abs, relu, sign
        if (in == DType.BOOL && op != UnaryOp.ABS && op != UnaryOp.RELU && op != UnaryOp.SIGN) {
            return op.keepsIntegers() ? DType.I64 : DType.F32;
        }
        return op.keepsIntegers() ? in : DType.F32;
    }

    static Tensor unary(UnaryOp op, Tensor x) {
        DType result = unaryResult(op, x.dtype());
        DType compute = op == UnaryOp.LOGICAL_NOT ? x.dtype().computeType() : result.computeType();
        Tensor in = materialize(x, compute);
        Tensor out = Tensor.zeros(compute, x.shape());
        Elementwise.unary(op, in, out);
        return out.to(result);
    }

    static Tensor unaryInto(UnaryOp op, Tensor x, Tensor out) {
        String name = op.opName() + "(out=)";
        if (!Arrays.equals(x.shape(), out.shape())) {
            throw new IllegalArgumentException(name + ": output shape " + Shapes.str(out.shape()) + " does not match input "
                    + Shapes.str(x.shape()));
        }
        DType result = unaryResult(op, x.dtype());
        if (out.dtype() != result) {
            throw new IllegalArgumentException(name + ": output dtype " + out.dtype() + ", expected " + result);
        }
        if (result == result.computeType() && out.storage().array() != null && x.dtype() == result) {
            Elementwise.unary(op, materialize(x, result), out);
            out.storage().bumpVersion();
            return out;
        }
        return out.copyFromInPlace(unary(op, x));
    }

    static Tensor unaryInPlace(UnaryOp op, Tensor x) {
        if (unaryResult(op, x.dtype()) != x.dtype()) {
            throw new IllegalArgumentException(op.opName() + "_: result type " + unaryResult(op, x.dtype())
                    + " cannot be stored in a " + x.dtype() + " tensor");
        }
        if (x.dtype() == x.dtype().computeType() && x.storage().array() != null) {
            Elementwise.unary(op, x, x);
            x.storage().bumpVersion();
            return x;
        }
        return x.copyFromInPlace(unary(op, x));
    }

    private static DType binaryResult(BinaryOp op, DType a, DType b) {
        if (op.isPredicate()) {
            return DType.BOOL;
        }
        DType r = DType.promote(a, b);
        if (op == BinaryOp.DIV && !r.isFloating()) {
            return DType.F32;
        }
        return r;
    }

    private static DType binaryCompute(BinaryOp op, DType a, DType b) {
        DType r = op.isPredicate() ? DType.promote(a, b) : binaryResult(op, a, b);
        return r.computeType();
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        int[] shape = Shapes.broadcast(op.opName(), a.shape(), b.shape());
        DType result = binaryResult(op, a.dtype(), b.dtype());
        DType compute = binaryCompute(op, a.dtype(), b.dtype());
        DType common = op.isPredicate() ? DType.promote(a.dtype(), b.dtype()) : result;
        Tensor x = materialize(castInteger(a, common), compute);
        Tensor y = materialize(castInteger(b, common), compute);
        return run(op, x, y, shape, op.isPredicate() ? DType.BOOL : compute, result);
    }

    /**
     * a·s or a/s for a BF16/F16 {@code a}, as PyTorch's mul and div kernels take a Python scalar: in
     * the F32 compute type, not rounded to the half type first, the result rounded once.
     */
    static Tensor halfByScalar(BinaryOp op, Tensor a, double s) {
        Tensor y = Tensor.scalar(s, DType.F32);
        return run(op, materialize(a, DType.F32), y, a.shape(), DType.F32, a.dtype());
    }

    /** op(x, y) broadcast to {@code shape} into a new {@code outType} tensor, converted to {@code result}. */
    private static Tensor run(BinaryOp op, Tensor x, Tensor y, int[] shape, DType outType, DType result) {
        Tensor out = Tensor.zeros(outType, shape);
        Elementwise.binary(op, x, Shapes.broadcastStrides(op.opName(), x.shape(), x.strides(), shape),
                y, Shapes.broadcastStrides(op.opName(), y.shape(), y.strides(), shape), out);
        return out.to(result);
    }

    /**
     * An integer operand of a floating op is cast to the op's type first, as PyTorch does: an I64
     * rounded straight to the F32 compute type and then to a half result would round twice.
     */
    private static Tensor castInteger(Tensor t, DType common) {
        return common.isFloating() && !t.dtype().isFloating() ? t.to(common) : t;
    }

    static Tensor binaryInPlace(BinaryOp op, Tensor a, Tensor b) {
        String name = op.opName() + "_";
        int[] shape = Shapes.broadcast(name, a.shape(), b.shape());
        if (!Arrays.equals(shape, a.shape())) {
            throw new IllegalArgumentException(name + ": result shape " + Shapes.str(shape) + " does not match the in-place tensor's "
                    + Shapes.str(a.shape()));
        }
        DType result = binaryResult(op, a.dtype(), b.dtype());
        if (result.isFloating() && !a.dtype().isFloating() || op.isPredicate() && a.dtype() != DType.BOOL) {
            throw new IllegalArgumentException(name + ": result type " + result + " cannot be stored in a " + a.dtype() + " tensor");
        }
        DType compute = binaryCompute(op, a.dtype(), b.dtype());
        if (!op.isPredicate() && a.dtype() == compute && a.storage().array() != null) {
            Tensor y = materialize(b, compute);
            Elementwise.binary(op, a, a.strides(), y, Shapes.broadcastStrides(name, y.shape(), y.strides(), shape), a);
            a.storage().bumpVersion();
            return a;
        }
        return a.copyFromInPlace(binary(op, a, b));
    }

    static Tensor where(Tensor condition, Tensor a, Tensor b) {
        if (condition.dtype() != DType.BOOL) {
            throw new IllegalArgumentException("where: condition must be BOOL, got " + condition.dtype());
        }
        int[] shape = Shapes.broadcast("where", Shapes.broadcast("where", condition.shape(), a.shape()), b.shape());
        DType result = DType.promote(a.dtype(), b.dtype());
        Tensor c = materialize(condition, DType.BOOL);
        Tensor out = Tensor.zeros(result, shape);
        Elementwise.where(c, Shapes.broadcastStrides("where", c.shape(), c.strides(), shape),
                a, Shapes.broadcastStrides("where", a.shape(), a.strides(), shape),
                b, Shapes.broadcastStrides("where", b.shape(), b.strides(), shape), out);
        return out;
    }
}
