package dev.tessera.autograd;

import dev.tessera.tensor.Tensor;

/** Reductions and softmax-like ops, each backward beside its forward. */
final class ReduceFunctions {
    private ReduceFunctions() {}

    /** The dims a reduction over {@code dims} (empty = all) covers, as a sorted non-negative list. */
    static int[] normalize(int[] dims, int rank) {
        if (dims.length == 0) {
            return java.util.stream.IntStream.range(0, rank).toArray();
        }
        return java.util.Arrays.stream(dims).map(d -> d < 0 ? d + rank : d).sorted().toArray();
    }

    /** Re-inserts reduced dims as size 1 so a reduced gradient broadcasts over the input. */
    static Tensor unsqueezeReduced(Tensor g, int[] dims, int rank, boolean keepDim) {
        if (keepDim) {
            return g;
        }
        Tensor r = g;
        for (int d : normalize(dims, rank)) {
            r = r.unsqueeze(d);
        }
        return r;
    }

    /** y = Σ x over dims; dx = g broadcast back. */
    static Variable sum(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.sum(keepDim, dims);
        int[] shape = in.shape();
        return Variable.record("sum", out, g -> new Tensor[] {
            unsqueezeReduced(g, dims, shape.length, keepDim).expand(shape).contiguous()}, new Tensor[0], x);
    }

    /** y = Σ x / n; dx = g / n. */
    static Variable mean(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.mean(keepDim, dims);
        int[] shape = in.shape();
        double n = (double) in.numel() / Math.max(1, out.numel());
        return Variable.record("mean", out, g -> new Tensor[] {
            unsqueezeReduced(g, dims, shape.length, keepDim).div(n).expand(shape).contiguous()}, new Tensor[0], x);
    }

    /** max/min: the gradient goes to the extreme elements, split evenly among ties (as torch.amax). */
    static Variable extreme(Variable x, int[] dims, boolean keepDim, boolean max) {
        Tensor in = x.data();
        Tensor out = max ? in.max(keepDim, dims) : in.min(keepDim, dims);
        return Variable.record(max ? "max" : "min", out, g -> {
            Tensor y = unsqueezeReduced(out, dims, in.rank(), keepDim);
            Tensor hit = in.eq(y).to(g.dtype());
            Tensor count = hit.sum(true, dims.length == 0 ? normalize(dims, in.rank()) : dims);
            return new Tensor[] {hit.div(count).mul(unsqueezeReduced(g, dims, in.rank(), keepDim))};
        }, new Tensor[] {in, out}, x);
    }

    /**
     * y = Π x. dx_i = Π_{j≠i} x_j, computed without dividing by zero: y/x_i where x_i ≠ 0; where
     * x_i is the only zero of its group the product of the others; 0 where there are more zeros.
     */
    static Variable prod(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.prod(keepDim, dims);
        return Variable.record("prod", out, g -> {
            int[] all = dims.length == 0 ? normalize(dims, in.rank()) : dims;
            Tensor zero = in.eq(0);
            Tensor one = Tensor.scalar(1, in.dtype());
            Tensor zeros = zero.to(in.dtype()).sum(true, all);
            Tensor prodNonZero = Tensor.where(zero, one, in).prod(true, all);
            Tensor y = unsqueezeReduced(out, dims, in.rank(), keepDim);
            Tensor safeX = Tensor.where(zero, one, in);
            Tensor others = Tensor.where(zero, Tensor.where(zeros.eq(1), prodNonZero, Tensor.scalar(0, in.dtype())), y.div(safeX));
            return new Tensor[] {others.mul(unsqueezeReduced(g, dims, in.rank(), keepDim))};
        }, new Tensor[] {in, out}, x);
    }

    /** Var = Σ(x − x̄)² / (n − c), built from recorded primitives. */
    static Variable var(Variable x, int[] dims, int correction, boolean keepDim) {
        Variable centered = x.sub(x.mean(true, dims));
        int[] all = normalize(dims, x.rank());
        long n = 1;
        for (int d : all) {
            n *= x.shape()[d];
        }
        return centered.square().sum(keepDim, dims).div((double) Math.max(0, n - correction));
    }

    /** p-norm from primitives (p = 2 through sqrt of the sum of squares). */
    static Variable norm(Variable x, double p, int[] dims, boolean keepDim) {
        if (p == 2) {
            return x.square().sum(keepDim, dims).sqrt();
        }
        if (p == 1) {
            return x.abs().sum(keepDim, dims);
        }
        if (p == Double.POSITIVE_INFINITY) {
            return x.abs().max(keepDim, dims);
        }
        return x.abs().pow(p).sum(keepDim, dims).pow(1 / p);
    }

    /** y = log Σ exp x; dx = g · softmax(x) = g · exp(x − y). */
    static Variable logsumexp(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.logsumexp(keepDim, dims);
        return Variable.record("logsumexp", out, g -> {
            Tensor y = unsqueezeReduced(out, dims, in.rank(), keepDim);
            return new Tensor[] {in.sub(y).exp().mul(unsqueezeReduced(g, dims, in.rank(), keepDim))};
        }, new Tensor[] {in, out}, x);
    }

    /** y = cumsum x; dx = reversed cumsum of g: dx_i = Σ_{j ≥ i} g_j = Σ g − cumsum(g) + g. */
    static Variable cumsum(Variable x, int dim) {
        Tensor in = x.data();
        Tensor out = in.cumsum(dim);
        return Variable.record("cumsum", out, g -> new Tensor[] {
            g.sum(true, dim).sub(g.cumsum(dim)).add(g)}, new Tensor[0], x);
    }

    /** y = softmax x; dx = y ⊙ (g − Σ g ⊙ y). */
    static Variable softmax(Variable x, int dim) {
        Tensor out = x.data().softmax(dim);
        boolean lastDim = x.rank() == 0 || dev.tessera.tensor.Shapes.dim("softmax", dim, x.rank()) == x.rank() - 1;
        return Variable.record("softmax", out, g -> new Tensor[] {
            lastDim ? out.softmaxBackward(g, 1) : out.mul(g.sub(g.mul(out).sum(true, dim)))}, new Tensor[] {out}, x);
    }

    /** y = log_softmax x; dx = g − softmax(x) · Σ g = g − exp(y) Σ g. */
    static Variable logSoftmax(Variable x, int dim) {
        Tensor out = x.data().logSoftmax(dim);
        return Variable.record("log_softmax", out, g -> new Tensor[] {
            g.sub(out.exp().mul(g.sum(true, dim)))}, new Tensor[] {out}, x);
    }
}
