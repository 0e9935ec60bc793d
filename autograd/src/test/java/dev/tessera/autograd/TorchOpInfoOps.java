package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Fft;
import dev.tessera.tensor.Indexing;
import dev.tessera.tensor.SwiGlu;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Tessera's side of the OpInfo comparison: each op name in {@code cases.json} mapped to the
 * public {@link Tensor} call and, where autograd has it, the {@link Variable} call, with the
 * meaning {@code autograd/tools/make_torch_opinfo.py} gives the same name in torch.
 */
final class TorchOpInfoOps {
    private TorchOpInfoOps() {}

    /** The op on plain tensors; returns a Tensor, a Tensor[], or a TopK/Sorted record. */
    interface TensorOp {
        Object apply(Args a, List<Tensor> x);
    }

    /** The op on variables; returns a Variable or a Variable[]. */
    interface VariableOp {
        Object apply(Args a, List<Variable> x);
    }

    /** An op's two forms; either may be null (Tensor-only or Variable-only ops). */
    record Op(TensorOp tensor, VariableOp variable) {}

    /** A case's scalar arguments; non-finite numbers arrive as the strings "inf", "-inf", "nan". */
    record Args(Map<String, Object> map) {
        int i(String k) {
            return Math.toIntExact((Long) get(k));
        }

        int[] ints(String k) {
            return ((List<?>) get(k)).stream().mapToInt(v -> Math.toIntExact((Long) v)).toArray();
        }

        double d(String k) {
            return switch (get(k)) {
                case Number n -> n.doubleValue();
                case String s when s.equals("inf") -> Double.POSITIVE_INFINITY;
                case String s when s.equals("-inf") -> Double.NEGATIVE_INFINITY;
                case String s when s.equals("nan") -> Double.NaN;
                case Object o -> throw new IllegalArgumentException("OpInfo: argument " + k + " is not a number: " + o);
            };
        }

        boolean b(String k) {
            return (Boolean) get(k);
        }

        DType dtype() {
            return DType.valueOf((String) get("dtype"));
        }

        private Object get(String k) {
            Object v = map.get(k);
            if (v == null) {
                throw new IllegalArgumentException("OpInfo: missing argument " + k + " in " + map);
            }
            return v;
        }
    }

    static final Map<String, Op> OPS = new HashMap<>();

    private static void op(String name, TensorOp t, VariableOp v) {
        if (OPS.put(name, new Op(t, v)) != null) {
            throw new IllegalStateException("OpInfo: op " + name + " registered twice");
        }
    }

    private static void unary(String name, UnaryOperator<Tensor> t, UnaryOperator<Variable> v) {
        op(name, (a, x) -> t.apply(x.get(0)), v == null ? null : (a, x) -> v.apply(x.get(0)));
    }

    private static void binary(String name, BinaryOperator<Tensor> t, BinaryOperator<Variable> v) {
        op(name, (a, x) -> t.apply(x.get(0), x.get(1)), v == null ? null : (a, x) -> v.apply(x.get(0), x.get(1)));
    }

    private interface TensorScalar {
        Tensor apply(Tensor t, double s);
    }

    private interface VariableScalar {
        Variable apply(Variable t, double s);
    }

    private static void scalar(String name, TensorScalar t, VariableScalar v) {
        op(name, t == null ? null : (a, x) -> t.apply(x.get(0), a.d("scalar")),
                v == null ? null : (a, x) -> v.apply(x.get(0), a.d("scalar")));
    }

    /** A heap copy of {@code t} laid out transposed (so in-place kernels take their strided path), or a plain copy below 2-d. */
    private static Tensor writable(Tensor t) {
        if (t.rank() < 2) {
            return t.copy();
        }
        int[] s = t.shape();
        int r = s.length;
        int last = s[r - 1];
        s[r - 1] = s[r - 2];
        s[r - 2] = last;
        return Tensor.zeros(t.device(), t.dtype(), s).mT().copyFromInPlace(t);
    }

    private static Variable[] vars(List<Variable> x) {
        return x.toArray(Variable[]::new);
    }

    private static Tensor[] tensors(List<Tensor> x) {
        return x.toArray(Tensor[]::new);
    }

    static {
        // ---------------------------------------------------------------- elementwise
        unary("neg", Tensor::neg, Variable::neg);
        unary("exp", Tensor::exp, Variable::exp);
        unary("log", Tensor::log, Variable::log);
        unary("log1p", Tensor::log1p, Variable::log1p);
        unary("expm1", Tensor::expm1, Variable::expm1);
        unary("sqrt", Tensor::sqrt, Variable::sqrt);
        unary("rsqrt", Tensor::rsqrt, Variable::rsqrt);
        unary("abs", Tensor::abs, Variable::abs);
        unary("sign", Tensor::sign, v -> v.apply(UnaryOp.SIGN));
        unary("sin", Tensor::sin, Variable::sin);
        unary("cos", Tensor::cos, Variable::cos);
        unary("tanh", Tensor::tanh, Variable::tanh);
        unary("sigmoid", Tensor::sigmoid, Variable::sigmoid);
        unary("relu", Tensor::relu, Variable::relu);
        unary("gelu", Tensor::gelu, Variable::gelu);
        unary("geluTanh", Tensor::geluTanh, Variable::geluTanh);
        unary("silu", Tensor::silu, Variable::silu);
        unary("softplus", Tensor::softplus, Variable::softplus);
        unary("erf", Tensor::erf, Variable::erf);
        unary("square", Tensor::square, Variable::square);
        unary("reciprocal", Tensor::reciprocal, Variable::reciprocal);
        unary("logicalNot", Tensor::logicalNot, null);
        binary("add", Tensor::add, Variable::add);
        binary("sub", Tensor::sub, Variable::sub);
        binary("mul", Tensor::mul, Variable::mul);
        binary("div", Tensor::div, Variable::div);
        binary("pow", Tensor::pow, Variable::pow);
        binary("maximum", Tensor::maximum, Variable::maximum);
        binary("minimum", Tensor::minimum, Variable::minimum);
        binary("eq", Tensor::eq, null);
        binary("ne", Tensor::ne, null);
        binary("lt", Tensor::lt, null);
        binary("le", Tensor::le, null);
        binary("gt", Tensor::gt, null);
        binary("ge", Tensor::ge, null);
        binary("logicalAnd", Tensor::logicalAnd, null);
        binary("logicalOr", Tensor::logicalOr, null);
        scalar("addScalar", Tensor::add, Variable::add);
        scalar("subScalar", Tensor::sub, Variable::sub);
        scalar("mulScalar", Tensor::mul, Variable::mul);
        scalar("divScalar", Tensor::div, Variable::div);
        scalar("powScalar", Tensor::pow, Variable::pow);
        scalar("maximumScalar", Tensor::maximum, null);
        scalar("minimumScalar", Tensor::minimum, null);
        scalar("eqScalar", Tensor::eq, null);
        scalar("ltScalar", Tensor::lt, null);
        scalar("gtScalar", Tensor::gt, null);
        scalar("rsub", null, Variable::rsub);
        op("where", (a, x) -> Tensor.where(x.get(0), x.get(1), x.get(2)),
                (a, x) -> Variable.where(x.get(0).data(), x.get(1), x.get(2)));
        op("maskedFill", (a, x) -> x.get(0).maskedFill(x.get(1), a.d("value")),
                (a, x) -> x.get(0).maskedFill(x.get(1).data(), a.d("value")));
        op("clamp", (a, x) -> x.get(0).clamp(a.d("min"), a.d("max")), (a, x) -> x.get(0).clamp(a.d("min"), a.d("max")));

        // ---------------------------------------------------------------- reductions
        op("sum", (a, x) -> x.get(0).sum(a.b("keepDim"), a.ints("dims")), (a, x) -> x.get(0).sum(a.b("keepDim"), a.ints("dims")));
        op("prod", (a, x) -> x.get(0).prod(a.b("keepDim"), a.ints("dims")), (a, x) -> x.get(0).prod(a.b("keepDim"), a.ints("dims")));
        op("max", (a, x) -> x.get(0).max(a.b("keepDim"), a.ints("dims")), (a, x) -> x.get(0).max(a.b("keepDim"), a.ints("dims")));
        op("min", (a, x) -> x.get(0).min(a.b("keepDim"), a.ints("dims")), (a, x) -> x.get(0).min(a.b("keepDim"), a.ints("dims")));
        op("mean", (a, x) -> x.get(0).mean(a.b("keepDim"), a.ints("dims")), (a, x) -> x.get(0).mean(a.b("keepDim"), a.ints("dims")));
        op("var", (a, x) -> x.get(0).var(a.i("correction"), a.b("keepDim"), a.ints("dims")),
                (a, x) -> x.get(0).var(a.i("correction"), a.b("keepDim"), a.ints("dims")));
        op("std", (a, x) -> x.get(0).std(a.i("correction"), a.b("keepDim"), a.ints("dims")),
                (a, x) -> x.get(0).std(a.i("correction"), a.b("keepDim"), a.ints("dims")));
        op("logsumexp", (a, x) -> x.get(0).logsumexp(a.b("keepDim"), a.ints("dims")),
                (a, x) -> x.get(0).logsumexp(a.b("keepDim"), a.ints("dims")));
        op("norm", (a, x) -> x.get(0).norm(a.d("p"), a.b("keepDim"), a.ints("dims")),
                (a, x) -> x.get(0).norm(a.d("p"), a.b("keepDim"), a.ints("dims")));
        op("argmax", (a, x) -> x.get(0).argmax(a.i("dim"), a.b("keepDim")), null);
        op("argmin", (a, x) -> x.get(0).argmin(a.i("dim"), a.b("keepDim")), null);
        op("cumsum", (a, x) -> x.get(0).cumsum(a.i("dim")), (a, x) -> x.get(0).cumsum(a.i("dim")));
        op("softmax", (a, x) -> x.get(0).softmax(a.i("dim")), (a, x) -> x.get(0).softmax(a.i("dim")));
        op("logSoftmax", (a, x) -> x.get(0).logSoftmax(a.i("dim")), (a, x) -> x.get(0).logSoftmax(a.i("dim")));
        op("maskedSoftmax", (a, x) -> x.get(0).maskedSoftmax(x.get(1), a.d("scale")), null);
        op("softmaxBackward", (a, x) -> x.get(0).softmaxBackward(x.get(1), a.d("scale")), null);
        op("swiGlu", (a, x) -> SwiGlu.forward(x.get(0), x.get(1)), null);
        op("swiGluBackward", (a, x) -> SwiGlu.backward(x.get(0), x.get(1), x.get(2)), null);
        binary("matmul", Tensor::matmul, Variable::matmul);

        // ---------------------------------------------------------------- views and copies
        op("view", (a, x) -> x.get(0).view(a.ints("shape")), (a, x) -> x.get(0).view(a.ints("shape")));
        op("reshape", (a, x) -> x.get(0).reshape(a.ints("shape")), (a, x) -> x.get(0).reshape(a.ints("shape")));
        op("permute", (a, x) -> x.get(0).permute(a.ints("dims")), (a, x) -> x.get(0).permute(a.ints("dims")));
        op("transpose", (a, x) -> x.get(0).transpose(a.i("dim0"), a.i("dim1")), (a, x) -> x.get(0).transpose(a.i("dim0"), a.i("dim1")));
        unary("mT", Tensor::mT, Variable::mT);
        unary("squeezeAll", Tensor::squeeze, null);
        op("squeeze", (a, x) -> x.get(0).squeeze(a.i("dim")), (a, x) -> x.get(0).squeeze(a.i("dim")));
        op("unsqueeze", (a, x) -> x.get(0).unsqueeze(a.i("dim")), (a, x) -> x.get(0).unsqueeze(a.i("dim")));
        op("expand", (a, x) -> x.get(0).expand(a.ints("sizes")), (a, x) -> x.get(0).expand(a.ints("sizes")));
        binary("expandAs", Tensor::expandAs, null);
        op("narrow", (a, x) -> x.get(0).narrow(a.i("dim"), a.i("start"), a.i("length")),
                (a, x) -> x.get(0).narrow(a.i("dim"), a.i("start"), a.i("length")));
        op("slice", (a, x) -> x.get(0).slice(a.i("dim"), a.i("start"), a.i("end"), a.i("step")),
                (a, x) -> x.get(0).slice(a.i("dim"), a.i("start"), a.i("end"), a.i("step")));
        op("select", (a, x) -> x.get(0).select(a.i("dim"), a.i("index")), (a, x) -> x.get(0).select(a.i("dim"), a.i("index")));
        unary("flattenAll", Tensor::flatten, null);
        op("flatten", (a, x) -> x.get(0).flatten(a.i("start"), a.i("end")), (a, x) -> x.get(0).flatten(a.i("start"), a.i("end")));
        op("unflatten", (a, x) -> x.get(0).unflatten(a.i("dim"), a.ints("sizes")), (a, x) -> x.get(0).unflatten(a.i("dim"), a.ints("sizes")));
        op("split", (a, x) -> x.get(0).split(a.i("size"), a.i("dim")), (a, x) -> x.get(0).split(a.i("size"), a.i("dim")));
        op("splitSizes", (a, x) -> x.get(0).split(a.ints("sizes"), a.i("dim")), (a, x) -> x.get(0).split(a.ints("sizes"), a.i("dim")));
        op("chunk", (a, x) -> x.get(0).chunk(a.i("chunks"), a.i("dim")), (a, x) -> x.get(0).chunk(a.i("chunks"), a.i("dim")));
        op("diagonal", (a, x) -> x.get(0).diagonal(a.i("offset"), a.i("dim1"), a.i("dim2")),
                (a, x) -> x.get(0).diagonal(a.i("offset"), a.i("dim1"), a.i("dim2")));
        unary("contiguous", Tensor::contiguous, Variable::contiguous);
        unary("copy", Tensor::copy, null);
        op("to", (a, x) -> x.get(0).to(a.dtype()), (a, x) -> x.get(0).to(a.dtype()));
        op("cat", (a, x) -> Tensor.cat(a.i("dim"), tensors(x)), (a, x) -> Variable.cat(a.i("dim"), vars(x)));
        op("stack", (a, x) -> Tensor.stack(a.i("dim"), tensors(x)), (a, x) -> Variable.stack(a.i("dim"), vars(x)));
        op("asStrided", (a, x) -> Tensor.asStrided(x.get(0).storage(), a.ints("shape"), a.ints("strides"),
                x.get(0).offset() + a.i("offset")), null);

        // ---------------------------------------------------------------- indexing and sorting
        op("indexSelect", (a, x) -> x.get(0).indexSelect(a.i("dim"), x.get(1)), (a, x) -> x.get(0).indexSelect(a.i("dim"), x.get(1).data()));
        op("gather", (a, x) -> x.get(0).gather(a.i("dim"), x.get(1)), (a, x) -> x.get(0).gather(a.i("dim"), x.get(1).data()));
        op("scatter", (a, x) -> x.get(0).scatter(a.i("dim"), x.get(1), x.get(2)),
                (a, x) -> x.get(0).scatter(a.i("dim"), x.get(1).data(), x.get(2)));
        op("scatterValue", (a, x) -> Indexing.scatter(x.get(0), a.i("dim"), x.get(1), a.d("value")), null);
        op("scatterAdd", (a, x) -> x.get(0).scatterAdd(a.i("dim"), x.get(1), x.get(2)),
                (a, x) -> x.get(0).scatterAdd(a.i("dim"), x.get(1).data(), x.get(2)));
        op("embedding", (a, x) -> x.get(0).embedding(x.get(1)), (a, x) -> x.get(0).embedding(x.get(1).data()));
        op("oneHot", (a, x) -> x.get(0).oneHot(a.i("numClasses")), null);
        op("sort", (a, x) -> x.get(0).sort(a.i("dim"), a.b("descending")), null);
        op("argsort", (a, x) -> x.get(0).argsort(a.i("dim"), a.b("descending")), null);
        op("topk", (a, x) -> x.get(0).topk(a.i("k"), a.i("dim"), a.b("largest")), null);
        op("tril", (a, x) -> x.get(0).tril(a.i("diagonal")), (a, x) -> x.get(0).tril(a.i("diagonal")));
        op("triu", (a, x) -> x.get(0).triu(a.i("diagonal")), (a, x) -> x.get(0).triu(a.i("diagonal")));
        op("trilMask", (a, x) -> Indexing.trilMask(a.i("rows"), a.i("cols"), a.i("diagonal")), null);

        // ---------------------------------------------------------------- spectral
        op("rfft", (a, x) -> x.get(0).rfft(a.i("dim")), (a, x) -> x.get(0).rfft(a.i("dim")));
        op("irfft", (a, x) -> x.get(0).irfft(a.i("n"), a.i("dim")), (a, x) -> x.get(0).irfft(a.i("n"), a.i("dim")));
        op("fft", (a, x) -> Fft.fft(x.get(0), a.i("dim")), null);
        op("ifft", (a, x) -> Fft.ifft(x.get(0), a.i("dim")), null);

        // ---------------------------------------------------------------- factories
        op("arange", (a, x) -> Tensor.arange(a.d("start"), a.d("end"), a.d("step"), a.dtype()), null);
        op("linspace", (a, x) -> Tensor.linspace(a.d("start"), a.d("end"), a.i("steps"), a.dtype()), null);
        op("eye", (a, x) -> Tensor.eye(a.i("n"), a.dtype()), null);
        op("full", (a, x) -> Tensor.full(a.d("value"), a.dtype(), a.ints("shape")), null);

        // ---------------------------------------------------------------- in place, into a strided heap copy (mapped storage is read-only)
        binary("addInPlace", (t, o) -> writable(t).addInPlace(o), null);
        binary("subInPlace", (t, o) -> writable(t).subInPlace(o), null);
        binary("mulInPlace", (t, o) -> writable(t).mulInPlace(o), null);
        binary("divInPlace", (t, o) -> writable(t).divInPlace(o), null);
        scalar("addScalarInPlace", (t, s) -> writable(t).addInPlace(s), null);
        scalar("mulScalarInPlace", (t, s) -> writable(t).mulInPlace(s), null);
        unary("expInPlace", t -> writable(t).applyInPlace(UnaryOp.EXP), null);
        unary("expInto", t -> t.applyInto(UnaryOp.EXP, writable(Tensor.zeros(t.device(), t.dtype(), t.shape()))), null);
        op("fillInPlace", (a, x) -> writable(x.get(0)).fillInPlace(a.d("value")), null);
        binary("copyFromInPlace", (t, o) -> writable(t).copyFromInPlace(o), null);
        op("varAddInPlace", null, (a, x) -> x.get(0).mul(1.0).addInPlace(x.get(1)));
        op("varMulInPlace", null, (a, x) -> x.get(0).mul(1.0).mulInPlace(x.get(1)));
        scalar("varMulScalarInPlace", null, (v, s) -> v.mul(1.0).mulInPlace(s));
        op("varExpInPlace", null, (a, x) -> x.get(0).mul(1.0).applyInPlace(UnaryOp.EXP));
    }
}
