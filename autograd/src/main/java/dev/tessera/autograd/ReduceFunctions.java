package dev.tessera.autograd;

import dev.tessera.tensor.DType;
import dev.tessera.tensor.Dispatch;
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
     * y = Π x, with PyTorch's prod_backward. Without a zero anywhere in the input dx = g·(y / x)
     * (NaN at ±∞ / ±∞). With a zero anywhere, every element gets the product of the others in its slice, as
     * (exclusive product from the front)·(exclusive product from the back), which is exact where a
     * slice holds zeros, infinities beside finite values, or a NaN beside a zero. Reducing every
     * dim (torch.prod(x) without a dim) with two or more zeros gives 0 everywhere, as torch's
     * backward without grad mode does.
     */
    static Variable prod(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.prod(keepDim, dims);
        return Variable.record("prod", out, g -> {
            if (in.rank() == 0) {
                return new Tensor[] {g};
            }
            Tensor gk = unsqueezeReduced(g, dims, in.rank(), keepDim);
            double zeros = in.eq(0).to(DType.F64).sum().item();
            if (zeros == 0) {
                return new Tensor[] {gk.mul(unsqueezeReduced(out, dims, in.rank(), keepDim).div(in))};
            }
            if (dims.length == 0 && zeros > 1) {
                return new Tensor[] {Tensor.zeros(g.device(), in.dtype(), in.shape())};
            }
            return new Tensor[] {gk.mul(productOfOthers(in, normalize(dims, in.rank())))};
        }, new Tensor[] {in, out}, x);
    }

    /**
     * For each element, the product of the other elements of its slice over {@code reduced}, as
     * PyTorch's prod_safe_zeros_backward forms it: cumprod of the elements before it times cumprod
     * of those after it taken from the end, each accumulated in double and rounded to the dtype
     * (as torch's CPU cumprod does for F32 and F64), then multiplied in the dtype. The reduced dims
     * are moved last and flattened into one, so several dims act as one.
     */
    private static Tensor productOfOthers(Tensor in, int[] reduced) {
        int rank = in.rank();
        int[] perm = new int[rank];
        int k = 0;
        for (int d = 0; d < rank; d++) {
            if (java.util.Arrays.binarySearch(reduced, d) < 0) {
                perm[k++] = d;
            }
        }
        int n = 1;
        for (int d : reduced) {
            perm[k++] = d;
            n *= in.size(d);
        }
        Tensor moved = in.permute(perm).contiguous();
        int rows = n;
        Tensor others = Dispatch.run("prod_backward_others", n, t -> othersOnHost(t[0], rows), moved);
        int[] inverse = new int[rank];
        for (int i = 0; i < rank; i++) {
            inverse[perm[i]] = i;
        }
        return others.permute(inverse);
    }

    /** Per row of n (the last, reduced elements of contiguous {@code moved}): the product of the row's other elements, in F64. */
    private static Tensor othersOnHost(Tensor moved, int n) {
        double[] v = moved.to(DType.F64).toDoubleArray();
        double[] before = new double[v.length];
        double[] after = new double[v.length];
        for (int row = 0; row + n <= v.length && n > 0; row += n) {
            double acc = 1;
            for (int i = 0; i < n; i++) {
                before[row + i] = acc;
                acc *= v[row + i];
            }
            acc = 1;
            for (int i = n - 1; i >= 0; i--) {
                after[row + i] = acc;
                acc *= v[row + i];
            }
        }
        int[] shape = moved.shape();
        return Tensor.of(before, shape).to(moved.dtype()).mul(Tensor.of(after, shape).to(moved.dtype()));
    }

    /**
     * Var = Σ(x − x̄)² / (N − c), one recorded op with PyTorch's var_backward:
     * dx = (2 / (N − c))·g·(x − x̄). The closed form gives ±∞ at the finite elements of a slice
     * whose mean is infinite (an inf in it, or a sum that overflows) and NaN at its infinite ones;
     * differentiating the composite (mean, square, sum) gives NaN everywhere there. Reducing every
     * dim with N ≤ c, torch gives g·(NaN where x = x̄, else ∞) instead.
     */
    static Variable var(Variable x, int[] dims, int correction, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.var(correction, keepDim, dims);
        long n = 1;
        for (int d : normalize(dims, in.rank())) {
            n *= in.size(d);
        }
        double dof = (double) n - correction;
        return Variable.record("var", out, g -> {
            Tensor gk = unsqueezeReduced(g, dims, in.rank(), keepDim);
            Tensor mean = in.mean(true, dims);
            if ((dims.length == 0 || in.rank() == 0) && dof <= 0) {
                Tensor inf = Tensor.scalar(Double.POSITIVE_INFINITY, in.dtype());
                return new Tensor[] {gk.mul(Tensor.where(in.eq(mean), Tensor.scalar(Double.NaN, in.dtype()), inf))};
            }
            return new Tensor[] {gk.mul(2 / dof).mul(in.sub(mean))};
        }, new Tensor[] {in}, x);
    }

    /**
     * Std = √Var; d√v = g / (2√v), taken as 0 where the std is 0 (a constant slice), as PyTorch's
     * std_backward does, instead of the NaN of sqrt's derivative at 0 times Var's zero gradient.
     */
    static Variable std(Variable x, int[] dims, int correction, boolean keepDim) {
        Variable variance = var(x, dims, correction, keepDim);
        Tensor out = variance.data().sqrt();
        return Variable.record("std", out, g -> new Tensor[] {
            Tensor.where(out.eq(0), Tensor.scalar(0, g.dtype()), g.div(out.mul(2)))}, new Tensor[] {out}, variance);
    }

    /**
     * y = (Σ |x|^p)^(1/p); dx = sgn(x)·|x|^(p−1) · g / y^(p−1), with PyTorch's subgradient 0 where
     * the formula has 0/0: where y = 0 (a zero vector), and for p &lt; 1 where x = 0. p = 1 gives
     * sgn(x)·g; p = ∞ splits g evenly among the elements of largest |x| (as amax), times sgn(x).
     * Composing abs, pow, sum and sqrt instead would give NaN at a zero vector.
     */
    static Variable norm(Variable x, double p, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.norm(p, keepDim, dims);
        return Variable.record("norm", out, g -> {
            Tensor y = unsqueezeReduced(out, dims, in.rank(), keepDim);
            Tensor gk = unsqueezeReduced(g, dims, in.rank(), keepDim);
            Tensor zero = Tensor.scalar(0, in.dtype());
            if (p == 1) {
                return new Tensor[] {in.sign().mul(gk)};
            }
            if (p == Double.POSITIVE_INFINITY) {
                Tensor abs = in.abs();
                Tensor hit = abs.eq(y).logicalOr(abs.ne(abs)).to(in.dtype()); // NaN counts as the extreme
                Tensor count = hit.sum(true, normalize(dims, in.rank()));
                return new Tensor[] {in.sign().mul(hit).div(count).mul(gk)};
            }
            Tensor scale = Tensor.where(y.eq(0), zero, p == 2 ? gk.div(y) : gk.div(y.pow(p - 1)));
            Tensor scaled = p == 2 ? in : Tensor.where(in.eq(0), zero, in.sign().mul(in.abs().pow(p - 1)));
            return new Tensor[] {scaled.mul(scale)};
        }, new Tensor[] {in, out}, x);
    }

    /**
     * y = log Σ exp x; dx = g · softmax(x), computed as exp(x − m) / Σ exp(x − m) with m the max
     * (0 where it is infinite, as the forward does): exp(x − y) would round y = m + log Σ… to m for
     * large m and give 1 instead of ½ for [3e38, 3e38, 0] in F32.
     */
    static Variable logsumexp(Variable x, int[] dims, boolean keepDim) {
        Tensor in = x.data();
        Tensor out = in.logsumexp(keepDim, dims);
        return Variable.record("logsumexp", out, g -> {
            int[] all = normalize(dims, in.rank());
            Tensor m = in.max(true, all);
            Tensor shift = Tensor.where(m.abs().eq(Double.POSITIVE_INFINITY), Tensor.scalar(0, m.dtype()), m);
            Tensor e = in.sub(shift).exp();
            return new Tensor[] {e.div(e.sum(true, all)).mul(unsqueezeReduced(g, dims, in.rank(), keepDim))};
        }, new Tensor[] {in}, x);
    }

    /**
     * y = cumsum x; dx_i = Σ_{j ≥ i} g_j, the cumulative sum of g taken from the end (flip, cumsum,
     * flip, as PyTorch's reversed_cumsum). The shortcut Σ g − cumsum(g) + g cancels: one large g_j
     * swamps the small suffix sums behind it.
     */
    static Variable cumsum(Variable x, int dim) {
        Tensor in = x.data();
        Tensor out = in.cumsum(dim);
        return Variable.record("cumsum", out, g -> new Tensor[] {
            g.rank() == 0 ? g : flip(flip(g, dim).cumsum(dim), dim)}, new Tensor[0], x);
    }

    /** {@code t} reversed along {@code dim} (a gather copy: Tensor views take positive steps only). */
    private static Tensor flip(Tensor t, int dim) {
        int n = t.size(dim);
        return t.indexSelect(dim, Tensor.arange(n - 1, -1, -1, DType.I64).to(t.device()));
    }

    /** y = softmax x; dx = y ⊙ (g − Σ g ⊙ y). */
    static Variable softmax(Variable x, int dim) {
        Tensor out = x.data().softmax(dim);
        boolean lastDim = x.rank() == 0 || dev.tessera.tensor.Shapes.dim("softmax", dim, x.rank()) == x.rank() - 1;
        return Variable.record("softmax", out, g -> new Tensor[] {
            lastDim ? out.softmaxBackward(g, 1) : out.mul(g.sub(g.mul(out).sum(true, dim)))}, new Tensor[] {out}, x);
    }

    /**
     * y = log_softmax x; dx = g − softmax(x) · Σ g = g − exp(y) Σ g. A 0-d tensor is its own
     * (single-element) slice along dim 0 or −1, as in PyTorch, so Σ g is g itself there.
     */
    static Variable logSoftmax(Variable x, int dim) {
        Tensor out = x.data().logSoftmax(dim);
        return Variable.record("log_softmax", out, g -> new Tensor[] {
            g.sub(out.exp().mul(g.rank() == 0 ? g : g.sum(true, dim)))}, new Tensor[] {out}, x);
    }
}
