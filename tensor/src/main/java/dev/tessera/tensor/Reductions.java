package dev.tessera.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reductions over any set of dims, and the composites built on them (mean, var, logsumexp, norm,
 * softmax). The reduced dims are moved last so every output element reduces one contiguous row;
 * a row longer than {@link #ROW_GRAIN} is summed in fixed chunks whose partials are combined in
 * chunk order, so results are bitwise identical for any thread count.
 */
final class Reductions {
    private static final VectorSpecies<Float> S = Simd.F32;
    static final int ROW_GRAIN = 1 << 16;

    private Reductions() {}

    /** The input rearranged as contiguous (outer, inner) rows: inner = the reduced dims. */
    private record Rows(Tensor data, int outer, int inner, int[] outShape) {}

    private static Rows rows(String op, Tensor x, int[] dims, boolean keepDim, DType compute) {
        int rank = x.rank();
        boolean[] reduced = Shapes.dimMask(op, dims, rank);
        int[] perm = new int[rank];
        int j = 0;
        int kept = 0;
        for (int d = 0; d < rank; d++) {
            if (!reduced[d]) {
                perm[j++] = d;
                kept++;
            }
        }
        for (int d = 0; d < rank; d++) {
            if (reduced[d]) {
                perm[j++] = d;
            }
        }
        int[] shape = x.shape();
        int[] outShape = new int[keepDim ? rank : kept];
        long outer = 1;
        long inner = 1;
        for (int d = 0, o = 0; d < rank; d++) {
            if (reduced[d]) {
                inner *= shape[d];
                if (keepDim) {
                    outShape[o++] = 1;
                }
            } else {
                outer *= shape[d];
                outShape[o++] = shape[d];
            }
        }
        Tensor data = Ops.materialize(x.permute(perm).contiguous(), compute).contiguous();
        return new Rows(data, (int) outer, (int) inner, outShape);
    }

    static Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        DType result = switch (op) {
            case SUM, PROD -> x.dtype().isFloating() ? x.dtype() : DType.I64;
            case MAX, MIN -> x.dtype();
        };
        DType compute = result.computeType();
        Rows r = rows(op.opName(), x, dims, keepDim, compute);
        if (r.inner == 0 && (op == ReduceOp.MAX || op == ReduceOp.MIN) && r.outer > 0) {
            throw new IllegalArgumentException(op.opName() + ": cannot reduce an empty dim of shape " + Shapes.str(x.shape())
                    + " (no identity)");
        }
        Tensor out = Tensor.zeros(compute, r.outShape);
        Storage in = r.data.storage();
        Storage o = out.storage();
        int inner = r.inner;
        int base = r.data.offset();
        forEachRow(r.outer, inner, row -> {
            int start = base + row * inner;
            if (compute == DType.I64) {
                long[] a = in.longs();
                long acc = op == ReduceOp.PROD ? 1 : op == ReduceOp.MAX ? Long.MIN_VALUE : op == ReduceOp.MIN ? Long.MAX_VALUE : 0;
                for (int i = 0; i < inner; i++) {
                    long v = a[start + i];
                    acc = switch (op) {
                        case SUM -> acc + v;
                        case PROD -> acc * v;
                        case MAX -> Math.max(acc, v);
                        case MIN -> Math.min(acc, v);
                    };
                }
                o.setLong(row, acc);
            } else if (op == ReduceOp.SUM && compute == DType.F32) {
                o.setDouble(row, sumF32(in.floats(), start, inner));
            } else {
                double acc = op.identity();
                for (int i = 0; i < inner; i++) {
                    acc = op.combine(acc, in.getDouble(start + i));
                }
                o.setDouble(row, acc);
            }
        });
        return out.to(result);
    }

    /** Runs {@code body} for every row; rows are independent, so any split is deterministic. */
    private static void forEachRow(int outer, int inner, java.util.function.IntConsumer body) {
        long work = (long) outer * Math.max(inner, 1);
        int rowsPerChunk = (int) Math.max(1, Math.min(outer, StridedLoop.GRAIN / Math.max(inner, 1)));
        if (work < StridedLoop.GRAIN) {
            for (int r = 0; r < outer; r++) {
                body.accept(r);
            }
            return;
        }
        int chunks = Parallel.chunkCount(outer, rowsPerChunk);
        Parallel.forEachChunk(chunks, c -> {
            for (int r = c * rowsPerChunk, end = Math.min(outer, (c + 1) * rowsPerChunk); r < end; r++) {
                body.accept(r);
            }
        });
    }

    /** Sum of a contiguous float row: fixed chunks, vector lanes inside, partials added in order. */
    static double sumF32(float[] a, int start, int n) {
        if (n <= ROW_GRAIN) {
            return sumChunk(a, start, n);
        }
        int chunks = Parallel.chunkCount(n, ROW_GRAIN);
        double[] partial = new double[chunks];
        Parallel.forEachChunk(chunks, c -> {
            int from = c * ROW_GRAIN;
            partial[c] = sumChunk(a, start + from, Math.min(ROW_GRAIN, n - from));
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    private static double sumChunk(float[] a, int start, int n) {
        int i = 0;
        int upper = Simd.loopBound(n);
        double total = 0;
        if (upper > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < upper; i += S.length()) {
                acc = FloatVector.fromArray(S, a, start + i).add(acc); // the loaded vector as receiver: see GemmKernels.put
            }
            total = Simd.sumLanes(acc);
        }
        for (; i < n; i++) {
            total += a[start + i];
        }
        return total;
    }

    static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        Tensor f = x.dtype().isFloating() ? x : x.to(DType.F32);
        long count = reducedCount(x, dims);
        Tensor s = reduce(ReduceOp.SUM, f, dims, keepDim);
        return count == 0 ? s.mul(Double.NaN) : s.div((double) count);
    }

    static Tensor var(Tensor x, int[] dims, int correction, boolean keepDim) {
        Tensor f = x.dtype().isFloating() ? x : x.to(DType.F32);
        Tensor centered = f.sub(mean(f, dims, true));
        long count = reducedCount(x, dims);
        return reduce(ReduceOp.SUM, centered.square(), dims, keepDim).div((double) Math.max(0, count - correction));
    }

    private static int[] keptShape(Tensor x, int[] dims) {
        boolean[] reduced = Shapes.dimMask("reduce", dims, x.rank());
        int[] out = x.shape();
        for (int d = 0; d < out.length; d++) {
            if (reduced[d]) {
                out[d] = 1;
            }
        }
        return out;
    }

    /** The shape left after reducing {@code dims} without keepDim. */
    private static int[] reducedShape(Tensor x, int[] dims) {
        boolean[] reduced = Shapes.dimMask("reduce", dims, x.rank());
        int kept = 0;
        for (boolean r : reduced) {
            kept += r ? 0 : 1;
        }
        int[] out = new int[kept];
        for (int d = 0, j = 0; d < reduced.length; d++) {
            if (!reduced[d]) {
                out[j++] = x.shape()[d];
            }
        }
        return out;
    }

    private static long reducedCount(Tensor x, int[] dims) {
        boolean[] reduced = Shapes.dimMask("var", dims, x.rank());
        long n = 1;
        for (int d = 0; d < reduced.length; d++) {
            if (reduced[d]) {
                n *= x.shape()[d];
            }
        }
        return n;
    }

    static Tensor logsumexp(Tensor x, int[] dims, boolean keepDim) {
        Tensor f = x.dtype().isFloating() ? x : x.to(DType.F32);
        if (reducedCount(x, dims) == 0) { // log of an empty sum
            return Tensor.full(Double.NEGATIVE_INFINITY, f.dtype(), keepDim ? keptShape(x, dims) : reducedShape(x, dims));
        }
        Tensor m = reduce(ReduceOp.MAX, f, dims, true);
        // an all -inf (or +inf) row would give inf - inf = NaN; shifting by 0 there keeps the right answer
        Tensor shift = Tensor.where(m.abs().eq(Double.POSITIVE_INFINITY), Tensor.scalar(0, m.dtype()), m);
        Tensor s = reduce(ReduceOp.SUM, f.sub(shift).exp(), dims, true).log().add(shift);
        return keepDim ? s : s.reshape(reducedShape(x, dims));
    }

    static Tensor norm(Tensor x, double p, int[] dims, boolean keepDim) {
        Tensor f = x.dtype().isFloating() ? x : x.to(DType.F32);
        if (p == 2) {
            return reduce(ReduceOp.SUM, f.square(), dims, keepDim).sqrt();
        }
        if (p == 1) {
            return reduce(ReduceOp.SUM, f.abs(), dims, keepDim);
        }
        if (p == Double.POSITIVE_INFINITY) {
            return reduce(ReduceOp.MAX, f.abs(), dims, keepDim);
        }
        if (!(p > 0)) {
            throw new IllegalArgumentException("norm: p must be positive, got " + p);
        }
        return reduce(ReduceOp.SUM, f.abs().pow(p), dims, keepDim).pow(1 / p);
    }

    /** Index of the first max (or min) along {@code dim}; NaN counts as the extreme, as in PyTorch. */
    static Tensor argExtreme(Tensor x, int dim, boolean keepDim, boolean max) {
        String op = max ? "argmax" : "argmin";
        int d = Shapes.dim(op, dim, Math.max(1, x.rank()));
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        if (t.shape()[d] == 0) {
            throw new IllegalArgumentException(op + ": cannot take " + op + " of an empty dim in shape " + Shapes.str(x.shape()));
        }
        Rows r = rows(op, t, new int[] {d}, keepDim, t.dtype().computeType());
        Tensor out = Tensor.zeros(DType.I64, r.outShape);
        Storage in = r.data.storage();
        long[] o = out.storage().longs();
        int inner = r.inner;
        forEachRow(r.outer, inner, row -> {
            int start = r.data.offset() + row * inner;
            int best = 0;
            double bestValue = in.getDouble(start);
            for (int i = 1; i < inner && !Double.isNaN(bestValue); i++) {
                double v = in.getDouble(start + i);
                if (Double.isNaN(v) || (max ? v > bestValue : v < bestValue)) {
                    best = i;
                    bestValue = v;
                }
            }
            o[row] = best;
        });
        return x.rank() == 0 ? out.reshape() : out;
    }

    static Tensor cumsum(Tensor x, int dim) {
        int d = Shapes.dim("cumsum", dim, Math.max(1, x.rank()));
        if (x.rank() == 0) {
            return x.copy();
        }
        DType result = x.dtype().isFloating() ? x.dtype() : DType.I64;
        Tensor moved = Ops.materialize(x.transpose(d, -1).contiguous(), result.computeType()).contiguous();
        Tensor out = Tensor.zeros(result.computeType(), moved.shape());
        int inner = moved.shape()[moved.rank() - 1];
        int outer = inner == 0 ? 0 : moved.numel() / inner;
        Storage in = moved.storage();
        Storage o = out.storage();
        forEachRow(outer, inner, row -> {
            int start = row * inner;
            if (result == DType.I64) {
                long acc = 0;
                for (int i = 0; i < inner; i++) {
                    acc += in.getLong(moved.offset() + start + i);
                    o.setLong(start + i, acc);
                }
            } else {
                double acc = 0;
                for (int i = 0; i < inner; i++) {
                    acc += in.getDouble(moved.offset() + start + i);
                    o.setDouble(start + i, acc);
                }
            }
        });
        return out.transpose(d, -1).contiguous().to(result);
    }

    /** softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x); log form (x_i − max) − log Σ exp(x_j − max). */
    static Tensor softmax(Tensor x, int dim, boolean log) {
        String op = log ? "log_softmax" : "softmax";
        if (!x.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": needs a floating tensor, got " + x.dtype());
        }
        int d = Shapes.dim(op, dim, Math.max(1, x.rank()));
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        DType compute = x.dtype().computeType();
        Tensor moved = Ops.materialize(t.transpose(d, -1).contiguous(), compute).contiguous();
        Tensor out = Tensor.zeros(compute, moved.shape());
        int inner = moved.shape()[moved.rank() - 1];
        int outer = inner == 0 ? 0 : moved.numel() / inner;
        forEachRow(outer, inner, row -> {
            int start = row * inner;
            if (compute == DType.F32) {
                softmaxRowF32(moved.storage().floats(), moved.offset() + start, out.storage().floats(), start, inner, log);
            } else {
                softmaxRowF64(moved.storage().doubles(), moved.offset() + start, out.storage().doubles(), start, inner, log);
            }
        });
        Tensor back = out.transpose(d, -1).contiguous().to(x.dtype());
        return x.rank() == 0 ? back.reshape() : back;
    }

    /**
     * Attention's softmax in one pass over the scores: y = softmax(scale·x) along the last dim with
     * the entries where {@code allowed} is false left out (probability 0). {@code x} is (..., T, S),
     * {@code allowed} a BOOL tensor broadcastable to it. A row with nothing allowed is all zeros.
     */
    static Tensor maskedSoftmax(Tensor x, Tensor allowed, double scale) {
        String op = "masked_softmax";
        if (!x.dtype().isFloating() || allowed.dtype() != DType.BOOL) {
            throw new IllegalArgumentException(op + ": needs floating scores and a BOOL mask, got " + x.dtype() + " and " + allowed.dtype());
        }
        int[] shape = x.shape();
        // the mask is read through its broadcast view (no (B, H, T, S) copy) when its rows are contiguous;
        // a mapped or off-heap mask is copied to the heap once, before broadcasting
        Tensor mask = Ops.materialize(allowed, DType.BOOL).expand(shape);
        if (shape.length > 0 && mask.stride(-1) != 1) {
            mask = mask.contiguous();
        }
        int[] maskStrides = mask.strides();
        int maskOffset = mask.offset();
        DType compute = x.dtype().computeType();
        Tensor in = Ops.materialize(x.contiguous(), compute).contiguous();
        Tensor out = Tensor.zeros(compute, shape);
        int n = shape.length == 0 ? 1 : shape[shape.length - 1];
        int rows = n == 0 ? 0 : in.numel() / n;
        byte[] m = (byte[]) mask.storage().array();
        forEachRow(rows, n, row -> {
            int start = row * n;
            int mo = maskOffset;
            for (int d = shape.length - 2, rest = row; d >= 0; rest /= shape[d], d--) {
                mo += rest % shape[d] * maskStrides[d];
            }
            // only the span from the first to the last allowed key is computed: outside it the
            // probabilities are exactly 0, which the zeroed output already holds (a causal row's
            // span is its prefix, so half the work of a causal mask is skipped)
            int lo = 0;
            while (lo < n && m[mo + lo] == 0) {
                lo++;
            }
            if (lo == n) {
                return; // nothing allowed: a zero row
            }
            int hi = n;
            while (m[mo + hi - 1] == 0) {
                hi--;
            }
            // the scaled scores are staged in the output row itself and the softmax runs in place
            // (every pass reads an element before it writes that element), so a row makes no scratch
            int span = hi - lo;
            int yo = start + lo;
            if (compute == DType.F32) {
                float[] a = in.storage().floats();
                float[] y = out.storage().floats();
                for (int i = 0; i < span; i++) {
                    y[yo + i] = m[mo + lo + i] != 0 ? (float) (a[in.offset() + start + lo + i] * scale) : Float.NEGATIVE_INFINITY;
                }
                softmaxRowF32(y, yo, y, yo, span, false);
            } else {
                double[] a = in.storage().doubles();
                double[] y = out.storage().doubles();
                for (int i = 0; i < span; i++) {
                    y[yo + i] = m[mo + lo + i] != 0 ? a[in.offset() + start + lo + i] * scale : Double.NEGATIVE_INFINITY;
                }
                softmaxRowF64(y, yo, y, yo, span, false);
            }
        });
        return out.to(x.dtype());
    }

    /**
     * The backward of a softmax over the last dim, fused: dx = α·y ⊙ (g − Σ g ⊙ y), one pass per row
     * (the composite makes four full-size temporaries). Each row's dot product runs in a fixed order.
     */
    static Tensor softmaxBackward(Tensor y, Tensor g, double scale) {
        if (!java.util.Arrays.equals(y.shape(), g.shape())) {
            throw new IllegalArgumentException("softmax_backward: probabilities " + Shapes.str(y.shape()) + " and gradient "
                    + Shapes.str(g.shape()) + " differ in shape");
        }
        DType compute = DType.promote(y.dtype(), g.dtype()).computeType();
        Tensor p = Ops.materialize(y.contiguous(), compute).contiguous();
        Tensor gr = Ops.materialize(g.contiguous(), compute).contiguous();
        int[] shape = p.shape();
        Tensor out = Tensor.zeros(compute, shape);
        int n = shape.length == 0 ? 1 : shape[shape.length - 1];
        int rows = n == 0 ? 0 : p.numel() / n;
        forEachRow(rows, n, row -> {
            int start = row * n;
            if (compute == DType.F32) {
                softmaxBackwardRowF32(p.storage().floats(), p.offset() + start, gr.storage().floats(), gr.offset() + start,
                        out.storage().floats(), start, n, (float) scale);
            } else {
                double[] pa = p.storage().doubles();
                double[] ga = gr.storage().doubles();
                double[] o = out.storage().doubles();
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += ga[gr.offset() + start + i] * pa[p.offset() + start + i];
                }
                for (int i = 0; i < n; i++) {
                    o[start + i] = scale * pa[p.offset() + start + i] * (ga[gr.offset() + start + i] - dot);
                }
            }
        });
        return out.to(DType.promote(y.dtype(), g.dtype()));
    }

    private static void softmaxBackwardRowF32(float[] p, int po, float[] g, int go, float[] out, int oo, int n, float scale) {
        int upper = Simd.loopBound(n);
        int lanes = S.length();
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < upper; i += lanes) {
            acc = FloatVector.fromArray(S, g, go + i).fma(FloatVector.fromArray(S, p, po + i), acc);
        }
        double sum = Simd.sumLanes(acc);
        for (; i < n; i++) {
            sum += g[go + i] * p[po + i];
        }
        float dot = (float) sum;
        for (i = 0; i < upper; i += lanes) {
            FloatVector.fromArray(S, g, go + i).sub(dot).mul(FloatVector.fromArray(S, p, po + i)).mul(scale).intoArray(out, oo + i);
        }
        for (; i < n; i++) {
            out[oo + i] = (g[go + i] - dot) * p[po + i] * scale;
        }
    }

    /**
     * One row of softmax or log_softmax. With m the row's max (0 when it is −inf, so an all −inf row
     * gives 0/0 = NaN rather than −inf − −inf; a +inf max stays, so a +inf entry makes the row NaN
     * through inf − inf, as in PyTorch) and lse = log Σ exp(x − m),
     * softmax is exp(x − m)/Σ and log_softmax is (x − m) − lse: the max is subtracted before lse
     * is, so a row far from zero keeps the precision of its differences (x − (m + lse) would round
     * m + lse to the ulp of m first: [1e4, 1e4 − 1] would give −0.3135 instead of −0.3133).
     * The exponentials all come from the vector exp when SIMD is on (the tail through a buffer
     * padded with −inf, which adds 0), so a row's bits do not depend on where the tail falls.
     * For softmax (not log_softmax) y may be a at the same offset: each element is read before it is written.
     */
    private static void softmaxRowF32(float[] a, int ao, float[] y, int yo, int n, boolean log) {
        // every pass is an array kernel with scalars in and out: no vector crosses a call C2 may leave
        // out of line, so none is boxed (JFR found this row's max loop boxing ~130 MB a tiny step)
        float max = VectorMath.maxOf(a, ao, n);
        float shift = max == Float.NEGATIVE_INFINITY ? 0 : max;
        double sum = RowKernels.expShifted(a, ao, shift, y, yo, n);
        if (log) {
            VectorMath.minusTwice(a, ao, shift, (float) Math.log(sum), y, yo, n);
        } else {
            VectorMath.scaleInPlace(y, yo, n, (float) (1 / sum));
        }
    }

    /** The double row: as {@link #softmaxRowF32}, (x − m) − lse and exp(x − m)/Σ; y may be a for softmax, likewise. */
    private static void softmaxRowF64(double[] a, int ao, double[] y, int yo, int n, boolean log) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, a[ao + i]);
        }
        double shift = max == Double.NEGATIVE_INFINITY ? 0 : max;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(a[ao + i] - shift);
        }
        double lse = Math.log(sum);
        for (int i = 0; i < n; i++) {
            y[yo + i] = log ? (a[ao + i] - shift) - lse : Math.exp(a[ao + i] - shift) / sum;
        }
    }
}
