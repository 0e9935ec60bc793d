package dev.tessera.autograd;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Device;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A tensor that remembers how it was computed. Ops on variables compute on {@link #data()} and,
 * while {@link GradMode} is enabled and some input requires grad, record a {@link Node} holding
 * the op's backward; {@link #backward()} then walks the recorded graph in reverse and accumulates
 * gradients into the leaves' {@link #grad()}.
 *
 * <p>The op methods mirror {@link Tensor}'s; each one's derivative lives in {@link Derivatives}
 * (elementwise) or beside its forward in the {@code *Functions} classes.
 */
public final class Variable {
    private Tensor data;
    private Tensor grad;
    private boolean requiresGrad;
    private Node node;
    /** Set on outputs of view ops: in-place writes through a view would bypass the base's history. */
    private final Variable viewBase;
    private final List<UnaryOperator<Tensor>> leafHooks = new ArrayList<>(0);
    private String name;

    private Variable(Tensor data, boolean requiresGrad, Node node, Variable viewBase) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.node = node;
        this.viewBase = viewBase;
    }

    /** A leaf, e.g. a parameter; gradients accumulate into {@link #grad()} when it requires grad. */
    public static Variable of(Tensor data, boolean requiresGrad) {
        if (requiresGrad && !data.dtype().isFloating()) {
            throw new IllegalArgumentException("requiresGrad: only floating tensors can require grad, got " + data.dtype());
        }
        return new Variable(data, requiresGrad, null, null);
    }

    /** A constant leaf (no gradient). */
    public static Variable constant(Tensor data) {
        return new Variable(data, false, null, null);
    }

    public static Variable constant(double value) {
        return constant(Tensor.scalar(value));
    }

    /**
     * Records an op: the output requires grad when recording is on and any input does. The
     * backward may return null for inputs that get no gradient.
     */
    static Variable record(String op, Tensor out, Node.Backward backward, Tensor[] saved, Variable... inputs) {
        return recordView(op, out, backward, saved, null, inputs);
    }

    /** As {@link #record}, for an output that views {@code viewOf}'s storage. */
    static Variable recordView(String op, Tensor out, Node.Backward backward, Tensor[] saved, Variable viewOf, Variable... inputs) {
        OpProfile.forward(op);
        boolean track = GradMode.isEnabled() && out.dtype().isFloating();
        if (track) {
            track = false;
            for (Variable v : inputs) {
                track |= v != null && v.requiresGrad;
            }
        }
        if (!track) {
            return new Variable(out, false, null, viewOf);
        }
        return new Variable(out, true, new Node(op, out.shape(), inputs, backward, saved), viewOf);
    }

    // ------------------------------------------------------------------ state

    public Tensor data() {
        return data;
    }

    /** Accumulated gradient (same shape as data), or null before any backward reached it. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape(), data.shape())) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Arrays.toString(g.shape()) + " does not match "
                    + Arrays.toString(data.shape()));
        }
        this.grad = g;
    }

    public void zeroGrad() {
        this.grad = null;
    }

    /**
     * Moves this leaf's data (and gradient, if any) to {@code device} in place, keeping its identity,
     * as {@code module.to(device)} needs for parameters that optimizers already hold.
     */
    public void moveTo(Device device) {
        if (node != null) {
            throw new IllegalStateException("moveTo: only a leaf can move; " + (name == null ? "this variable" : name)
                    + " is the output of " + opName() + " (use data().to(device) for a copy)");
        }
        data = data.to(device);
        grad = grad == null ? null : grad.to(device);
    }

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Leaves are variables not produced by a recorded op. */
    public boolean isLeaf() {
        return node == null;
    }

    Node node() {
        return node;
    }

    public int[] shape() {
        return data.shape();
    }

    public int size(int dim) {
        return data.size(dim);
    }

    public int rank() {
        return data.rank();
    }

    public DType dtype() {
        return data.dtype();
    }

    public double item() {
        return data.item();
    }

    /** Optional label shown in graph exports. */
    public Variable named(String label) {
        this.name = label;
        return this;
    }

    String name() {
        return name;
    }

    /** The name of the op that produced this variable, or null for a leaf. */
    public String opName() {
        return node == null ? null : node.name;
    }

    /** The same data cut off from the graph. */
    public Variable detach() {
        return new Variable(data, false, null, null);
    }

    @Override
    public String toString() {
        String t = data.toString();
        String suffix = node != null ? ", grad_fn=<" + node.name + ">" : requiresGrad ? ", requires_grad=True" : "";
        return suffix.isEmpty() ? t : t.substring(0, t.length() - 1) + suffix + ")";
    }

    void accumulateGrad(Tensor g) {
        Tensor converted = g.dtype() == data.dtype() ? g : g.to(data.dtype());
        if (grad != null) {
            grad = grad.add(converted);
            return;
        }
        // the first gradient is kept as a private contiguous copy; contiguous() of a strided view (a
        // Linear weight's gradient arrives as the transpose of xᵀg) already is one, so copy only once
        Tensor dense = converted.contiguous();
        grad = dense == converted || dense.storage() == converted.storage() ? dense.copy() : dense;
    }

    List<UnaryOperator<Tensor>> leafHooks() {
        return leafHooks;
    }

    /**
     * Calls {@code hook} with this variable's gradient during backward; a non-null return value
     * replaces the gradient that flows on.
     */
    public Variable registerHook(UnaryOperator<Tensor> hook) {
        if (!requiresGrad) {
            throw new IllegalStateException("registerHook: cannot register a hook on a tensor that does not require grad");
        }
        if (node == null) {
            leafHooks.add(hook);
        } else {
            node.hooks.add(hook);
        }
        return this;
    }

    /** Keeps the gradient of this non-leaf in {@link #grad()} after backward. */
    public Variable retainGrad() {
        if (node != null) {
            node.retainedBy = this;
        }
        return this;
    }

    // ------------------------------------------------------------------ backward

    /** Backward from a one-element output (gradient 1). */
    public void backward() {
        if (data.numel() != 1) {
            throw new IllegalStateException("backward: grad can be implicitly created only for one-element outputs, got shape "
                    + Arrays.toString(data.shape()));
        }
        backward(data.fullLike(1), false);
    }

    public void backward(Tensor gradOutput) {
        backward(gradOutput, false);
    }

    /** Backward with an explicit output gradient; {@code retainGraph} keeps saved tensors for another pass. */
    public void backward(Tensor gradOutput, boolean retainGraph) {
        Engine.backward(this, gradOutput, retainGraph);
    }

    // ------------------------------------------------------------------ in place

    /**
     * Replaces this variable's value by {@code result} in place (the storage, and so every view of
     * it, sees the new values) and moves this variable's history to {@code result}'s. The old
     * value is copied first when the graph needs it, and any node that saved this storage detects
     * the write through the version counter.
     */
    Variable assignInPlace(String op, java.util.function.Function<Variable, Variable> compute) {
        if (requiresGrad && isLeaf() && GradMode.isEnabled()) {
            throw new IllegalStateException(op + ": a leaf variable that requires grad is used in an in-place operation "
                    + "(use GradMode.noGrad() or update data() directly)");
        }
        if (viewBase != null && viewBase.requiresGrad && GradMode.isEnabled()) {
            throw new IllegalStateException(op + ": in-place write through a view of a tensor that requires grad is not supported; "
                    + "use the out-of-place op");
        }
        Variable old = new Variable(requiresGrad && GradMode.isEnabled() ? data.copy() : data, requiresGrad, node, null);
        Variable result = compute.apply(old);
        data.copyFromInPlace(result.data);
        this.node = result.node;
        this.requiresGrad = result.requiresGrad;
        return this;
    }

    // ------------------------------------------------------------------ elementwise

    public Variable apply(UnaryOp op) { return Derivatives.unary(op, this); }
    public Variable apply(BinaryOp op, Variable o) { return Derivatives.binary(op, this, o); }
    private Variable lift(double s) { return constant(Tensor.scalar(s, data.dtype().isFloating() ? data.dtype() : DType.F32)); }

    public Variable add(Variable o) { return apply(BinaryOp.ADD, o); }
    public Variable sub(Variable o) { return apply(BinaryOp.SUB, o); }
    public Variable mul(Variable o) { return apply(BinaryOp.MUL, o); }
    public Variable div(Variable o) { return apply(BinaryOp.DIV, o); }
    /**
     * this^o. Gradients follow PyTorch at the singular points: d/dthis = o·this^(o−1) is 0 where
     * o = 0 (also at this = 0); d/do = this^o·ln this is NaN where this &lt; 0 (ln of a negative
     * number; torch gives NaN too), 0 where this = 0 and o ≥ 0, and −∞ where this = 0 and o &lt; 0.
     */
    public Variable pow(Variable o) { return apply(BinaryOp.POW, o); }
    public Variable maximum(Variable o) { return apply(BinaryOp.MAXIMUM, o); }
    public Variable minimum(Variable o) { return apply(BinaryOp.MINIMUM, o); }
    /** max(this, s) elementwise; at a tie the gradient is halved, as between two variables (derivatives.yaml). */
    public Variable maximum(double s) { return apply(BinaryOp.MAXIMUM, lift(s)); }
    /** min(this, s) elementwise; ties as {@link #maximum(double)}. */
    public Variable minimum(double s) { return apply(BinaryOp.MINIMUM, lift(s)); }
    public Variable add(double s) { return apply(BinaryOp.ADD, lift(s)); }
    public Variable sub(double s) { return apply(BinaryOp.SUB, lift(s)); }
    /** this·s; on BF16/F16 s stays in F32 (as Tensor.mul(double) and PyTorch keep it), forward and backward. */
    public Variable mul(double s) { return scaled(BinaryOp.MUL, s); }
    /** this/s; on BF16/F16 s stays in F32 (as Tensor.div(double) and PyTorch keep it), forward and backward. */
    public Variable div(double s) { return scaled(BinaryOp.DIV, s); }
    /** Integers keep the lifted F32 number, so the result is F32 as before. */
    private Variable scaled(BinaryOp op, double s) {
        return data.dtype().isFloating() ? Derivatives.scaled(op, this, s) : apply(op, lift(s));
    }
    public Variable pow(double s) { return apply(BinaryOp.POW, lift(s)); }
    /** s − this. */
    public Variable rsub(double s) { return lift(s).sub(this); }

    public Variable neg() { return apply(UnaryOp.NEG); }
    public Variable exp() { return apply(UnaryOp.EXP); }
    public Variable log() { return apply(UnaryOp.LOG); }
    public Variable log1p() { return apply(UnaryOp.LOG1P); }
    public Variable expm1() { return apply(UnaryOp.EXPM1); }
    public Variable sqrt() { return apply(UnaryOp.SQRT); }
    public Variable rsqrt() { return apply(UnaryOp.RSQRT); }
    public Variable abs() { return apply(UnaryOp.ABS); }
    /** −1, 0 or 1 (0 for NaN, as PyTorch); piecewise constant, so its gradient is 0. */
    public Variable sign() { return apply(UnaryOp.SIGN); }
    public Variable sin() { return apply(UnaryOp.SIN); }
    public Variable cos() { return apply(UnaryOp.COS); }
    public Variable tanh() { return apply(UnaryOp.TANH); }
    public Variable sigmoid() { return apply(UnaryOp.SIGMOID); }
    public Variable relu() { return apply(UnaryOp.RELU); }
    public Variable gelu() { return apply(UnaryOp.GELU_ERF); }
    public Variable geluTanh() { return apply(UnaryOp.GELU_TANH); }
    public Variable silu() { return apply(UnaryOp.SILU); }
    public Variable softplus() { return apply(UnaryOp.SOFTPLUS); }
    public Variable erf() { return apply(UnaryOp.ERF); }
    public Variable square() { return apply(UnaryOp.SQUARE); }
    public Variable reciprocal() { return apply(UnaryOp.RECIPROCAL); }

    public Variable clamp(double min, double max) { return Derivatives.clamp(this, min, max); }
    public static Variable where(Tensor condition, Variable a, Variable b) { return Derivatives.where(condition, a, b); }
    public Variable maskedFill(Tensor mask, double value) { return Derivatives.where(mask, lift(value), this); }

    public Variable addInPlace(Variable o) { return assignInPlace("add_", v -> v.add(o)); }
    public Variable mulInPlace(Variable o) { return assignInPlace("mul_", v -> v.mul(o)); }
    public Variable mulInPlace(double s) { return assignInPlace("mul_", v -> v.mul(s)); }
    public Variable applyInPlace(UnaryOp op) { return assignInPlace(op.opName() + "_", v -> v.apply(op)); }

    /** Converted to {@code dtype}; the gradient is converted back. */
    public Variable to(DType dtype) { return ViewFunctions.to(this, dtype); }

    // ------------------------------------------------------------------ reductions

    public Variable sum(int... dims) { return ReduceFunctions.sum(this, dims, false); }
    public Variable sum(boolean keepDim, int... dims) { return ReduceFunctions.sum(this, dims, keepDim); }
    public Variable mean(int... dims) { return ReduceFunctions.mean(this, dims, false); }
    public Variable mean(boolean keepDim, int... dims) { return ReduceFunctions.mean(this, dims, keepDim); }
    public Variable max(boolean keepDim, int... dims) { return ReduceFunctions.extreme(this, dims, keepDim, true); }
    public Variable min(boolean keepDim, int... dims) { return ReduceFunctions.extreme(this, dims, keepDim, false); }
    public Variable prod(boolean keepDim, int... dims) { return ReduceFunctions.prod(this, dims, keepDim); }
    public Variable var(int correction, boolean keepDim, int... dims) { return ReduceFunctions.var(this, dims, correction, keepDim); }
    public Variable std(int correction, boolean keepDim, int... dims) { return ReduceFunctions.std(this, dims, correction, keepDim); }
    public Variable logsumexp(boolean keepDim, int... dims) { return ReduceFunctions.logsumexp(this, dims, keepDim); }
    public Variable norm(double p, boolean keepDim, int... dims) { return ReduceFunctions.norm(this, p, dims, keepDim); }
    public Variable cumsum(int dim) { return ReduceFunctions.cumsum(this, dim); }
    public Variable softmax(int dim) { return ReduceFunctions.softmax(this, dim); }
    public Variable logSoftmax(int dim) { return ReduceFunctions.logSoftmax(this, dim); }

    // ------------------------------------------------------------------ indexing and spectral

    public Variable gather(int dim, Tensor index) { return IndexFunctions.gather(this, dim, index); }
    /**
     * The k largest (smallest) values along dim, as {@code torch.topk(...).values}: a gather at the
     * indices of {@code data().topk}, so the gradient flows back to the chosen elements only.
     */
    public Variable topk(int k, int dim, boolean largest) { return gather(dim, data.topk(k, dim, largest).indices()); }
    /** The values sorted along dim, as {@code torch.sort(...).values}; the permutation is {@code data().argsort}. */
    public Variable sort(int dim, boolean descending) { return gather(dim, data.argsort(dim, descending)); }
    public Variable indexSelect(int dim, Tensor index) { return IndexFunctions.indexSelect(this, dim, index); }
    public Variable scatter(int dim, Tensor index, Variable src) { return IndexFunctions.scatter(this, dim, index, src); }
    public Variable scatterAdd(int dim, Tensor index, Variable src) { return IndexFunctions.scatterAdd(this, dim, index, src); }
    /** Rows of this (vocab, dim) table for each id. */
    public Variable embedding(Tensor ids) { return IndexFunctions.embedding(this, ids); }
    public Variable tril(int diagonal) { return IndexFunctions.tril(this, diagonal, true); }
    public Variable triu(int diagonal) { return IndexFunctions.tril(this, diagonal, false); }
    public Variable rfft(int dim) { return FftFunctions.rfft(this, dim); }
    public Variable irfft(int n, int dim) { return FftFunctions.irfft(this, n, dim); }
    /** This (B, C, L) causally convolved per channel with kernel (C, K), differentiable in both (FftConv). */
    public Variable causalConv(Variable kernel) { return FftFunctions.causalConv(this, kernel); }

    // ------------------------------------------------------------------ linear algebra

    public Variable matmul(Variable o) { return LinalgFunctions.matmul(this, o); }

    // ------------------------------------------------------------------ views and copies

    public Variable reshape(int... shape) { return ViewFunctions.reshape(this, shape); }
    public Variable view(int... shape) { return ViewFunctions.view(this, shape); }
    public Variable permute(int... dims) { return ViewFunctions.permute(this, dims); }
    public Variable transpose(int d0, int d1) { return ViewFunctions.transpose(this, d0, d1); }
    public Variable mT() { return transpose(-2, -1); }
    /** Drops every dimension of size 1. */
    public Variable squeeze() { return ViewFunctions.reshapeLike("squeeze", this, data.squeeze()); }
    public Variable squeeze(int dim) { return ViewFunctions.reshapeLike("squeeze", this, data.squeeze(dim)); }
    public Variable unsqueeze(int dim) { return ViewFunctions.reshapeLike("unsqueeze", this, data.unsqueeze(dim)); }
    public Variable flatten(int start, int end) { return ViewFunctions.reshapeLike("flatten", this, data.flatten(start, end)); }
    public Variable unflatten(int dim, int... sizes) { return ViewFunctions.reshapeLike("unflatten", this, data.unflatten(dim, sizes)); }
    public Variable expand(int... sizes) { return ViewFunctions.expand(this, sizes); }
    public Variable expandAs(Variable other) { return expand(other.shape()); }
    public Variable narrow(int dim, int start, int length) { return ViewFunctions.slice(this, dim, start, start + length, 1, true); }
    public Variable slice(int dim, int start, int end, int step) { return ViewFunctions.slice(this, dim, start, end, step, false); }
    public Variable select(int dim, int index) { return ViewFunctions.select(this, dim, index); }
    public Variable diagonal(int offset, int dim1, int dim2) { return ViewFunctions.diagonal(this, offset, dim1, dim2); }
    public Variable contiguous() { return ViewFunctions.contiguous(this); }
    public Variable[] split(int size, int dim) { return ViewFunctions.split(this, data.split(size, dim), dim); }
    public Variable[] split(int[] sizes, int dim) { return ViewFunctions.split(this, data.split(sizes, dim), dim); }
    public Variable[] chunk(int chunks, int dim) { return ViewFunctions.split(this, data.chunk(chunks, dim), dim); }
    public static Variable cat(int dim, Variable... parts) { return ViewFunctions.cat(dim, parts); }
    public static Variable stack(int dim, Variable... parts) { return ViewFunctions.stack(dim, parts); }

    Variable viewBase() {
        return viewBase;
    }
}
