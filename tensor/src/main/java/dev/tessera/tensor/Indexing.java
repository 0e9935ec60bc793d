package dev.tessera.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Indexing, sorting and sampling ops with PyTorch semantics: index_select, gather, scatter,
 * scatter_add, embedding, one_hot, topk, sort, argsort, tril/triu and multinomial.
 *
 * <p>Every op returns a new contiguous tensor and reads its inputs through their strides, so views
 * (transposes, stepped slices, expands) need no copy by the caller. Dims may be negative (they wrap,
 * as in PyTorch); index <em>values</em> may not: as with PyTorch's index_select, gather and scatter a
 * negative index is an error rather than counting from the end, because a silently wrapped index
 * hides off-by-one bugs. Index tensors must be I32 or I64; value tensors may have any dtype.
 *
 * <p>Ties: {@link #sort}, {@link #argsort} and {@link #topk} are stable, so equal values keep
 * their original order (the lower index first), which makes results reproducible and testable.
 * NaN sorts above every number, as in PyTorch, and {@code -0.0} equals {@code 0.0}.
 */
public final class Indexing {
    private Indexing() {}

    /** The k largest (or smallest) values along a dim and their I64 positions in the input. */
    public record TopK(Tensor values, Tensor indices) {}

    /** Values sorted along a dim and the I64 permutation that sorts them ({@code values = gather(x, dim, indices)}). */
    public record Sorted(Tensor values, Tensor indices) {}

    // ---------------------------------------------------------------- index_select, embedding

    /**
     * {@code out[..., j, ...] = x[..., index[j], ...]} along {@code dim}: the slices of {@code x}
     * named by the 1-d (or 0-d) I32/I64 {@code index}, in that order, repeats allowed. The output has
     * x's shape with {@code size(dim) = index.numel()}; a 0-d {@code x} is read as shape [1].
     */
    public static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        String op = "index_select";
        long[] idx = indexValues(op, index);
        if (index.rank() > 1) {
            throw new IllegalArgumentException(op + ": index must be 1-d, got shape " + Shapes.str(index.shape()));
        }
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        int d = Shapes.dim(op, dim, t.rank());
        checkRange(op, idx, dim, t.shape()[d]);
        return selectAlong(t, d, idx);
    }

    /**
     * Embedding lookup: {@code out[i..., :] = weight[ids[i...], :]}. {@code weight} is
     * [numEmbeddings, embeddingDim]; {@code ids} (I32/I64, any shape) gives an output of shape
     * {@code ids.shape + [embeddingDim]}. This is index_select on dim 0 followed by a reshape.
     */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        String op = "embedding";
        if (weight.rank() != 2) {
            throw new IllegalArgumentException(op + ": weight must be 2-d [numEmbeddings, dim], got shape " + Shapes.str(weight.shape()));
        }
        long[] idx = indexValues(op, ids);
        checkRange(op, idx, 0, weight.size(0));
        int[] ishape = ids.shape();
        int[] outShape = Arrays.copyOf(ishape, ishape.length + 1);
        outShape[ishape.length] = weight.size(1);
        return selectAlong(weight, 0, idx).view(outShape);
    }

    /**
     * The gradient of {@link #embedding} with respect to its (numEmbeddings, dim) weight, given g of
     * shape ids.shape + (dim): row v is the sum of g's rows at the positions where ids is v, added
     * in position order, so the bits are those of scatter_add along dim 0 with the ids expanded
     * over dim, without making that (n, dim) index. Columns are split across threads; each
     * column's sum keeps position order, so any thread count gives the same bits.
     */
    public static Tensor embeddingBackward(Tensor g, Tensor ids, int numEmbeddings) {
        return Dispatch.run("embedding_backward", numEmbeddings, in -> embeddingBackwardOnHost(in[0], in[1], numEmbeddings), g, ids);
    }

    private static Tensor embeddingBackwardOnHost(Tensor g, Tensor ids, int numEmbeddings) {
        String op = "embedding_backward";
        long[] idx = indexValues(op, ids);
        checkRange(op, idx, 0, numEmbeddings);
        int n = idx.length;
        if (g.rank() != ids.rank() + 1 || !Arrays.equals(Arrays.copyOf(g.shape(), ids.rank()), ids.shape())) {
            throw new IllegalArgumentException(op + ": gradient " + Shapes.str(g.shape()) + " must be ids " + Shapes.str(ids.shape())
                    + " plus an embedding dim");
        }
        int dim = g.size(-1);
        DType compute = g.dtype().computeType();
        Tensor out = Tensor.zeros(compute, numEmbeddings, dim);
        Tensor src = Ops.materialize(g, compute).contiguous();
        Object from = src.storage().array();
        Object to = out.storage().array();
        int so = src.offset();
        Parallel.forEachRange(dim, Math.max(1, StridedLoop.GRAIN / Math.max(n, 1)), (chunk, c0, c1) -> {
            for (int j = 0; j < n; j++) {
                int o = (int) idx[j] * dim;
                int s = so + j * dim;
                if (to instanceof float[] b) {
                    float[] a = (float[]) from;
                    for (int c = c0; c < c1; c++) {
                        b[o + c] += a[s + c];
                    }
                } else if (to instanceof double[] b) {
                    double[] a = (double[]) from;
                    for (int c = c0; c < c1; c++) {
                        b[o + c] += a[s + c];
                    }
                } else {
                    long[] b = (long[]) to;
                    long[] a = (long[]) from;
                    for (int c = c0; c < c1; c++) {
                        b[o + c] += a[s + c];
                    }
                }
            }
        });
        return out.to(g.dtype());
    }

    /** Copies whole slices {@code x[..., idx[j], ...]} as contiguous blocks (System.arraycopy works for every dtype). */
    private static Tensor selectAlong(Tensor x, int d, long[] idx) {
        Tensor src = arrayBacked(x).contiguous();
        int[] shape = src.shape();
        int n = shape[d];
        int k = idx.length;
        int outer = 1;
        int inner = 1;
        for (int i = 0; i < d; i++) {
            outer *= shape[i];
        }
        for (int i = d + 1; i < shape.length; i++) {
            inner *= shape[i];
        }
        int[] outShape = shape.clone();
        outShape[d] = k;
        Tensor out = Tensor.zeros(x.dtype(), outShape);
        long blocks = (long) outer * k;
        if (blocks == 0 || inner == 0) {
            return out;
        }
        Object from = src.storage().array();
        Object to = out.storage().array();
        int base = src.offset();
        int blockSize = inner;
        int perChunk = Math.max(1, StridedLoop.GRAIN / inner);
        Parallel.forEachChunk(Parallel.chunkCount(blocks, perChunk), c -> {
            long end = Math.min(blocks, (long) (c + 1) * perChunk);
            for (long b = (long) c * perChunk; b < end; b++) {
                long o = b / k;
                int j = (int) (b % k);
                System.arraycopy(from, (int) (base + (o * n + idx[j]) * blockSize), to, (int) (b * blockSize), blockSize);
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- gather

    /**
     * {@code out[i][j][k] = x[index[i][j][k]][j][k]} for {@code dim = 0} (likewise for other dims).
     * {@code index} (I32/I64) has x's rank and, on every dim but {@code dim}, a size no larger than
     * x's; the output has index's shape and x's dtype. Index values must lie in
     * {@code [0, x.size(dim))}.
     */
    public static Tensor gather(Tensor x, int dim, Tensor index) {
        String op = "gather";
        long[] idx = indexValues(op, index);
        if (x.rank() != index.rank()) {
            throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape()) + " and input shape "
                    + Shapes.str(x.shape()) + " must have the same number of dims");
        }
        Tensor xt = x.rank() == 0 ? x.reshape(1) : x;
        int[] is = index.rank() == 0 ? new int[] {1} : index.shape();
        int d = Shapes.dim(op, dim, xt.rank());
        int[] xs = xt.shape();
        for (int k = 0; k < xs.length; k++) {
            if (k != d && is[k] > xs[k]) {
                throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape()) + " exceeds input shape "
                        + Shapes.str(x.shape()) + " at dim " + k);
            }
        }
        checkRange(op, idx, dim, xs[d]);
        Tensor src = arrayBacked(xt);
        Tensor out = Tensor.zeros(x.dtype(), index.shape());
        if (idx.length == 0) {
            return out;
        }
        int[] sst = src.strides();
        int sd = sst[d];
        sst[d] = 0;
        StridedLoop loop = new StridedLoop(is, new int[][] {Shapes.contiguousStrides(is), sst}, new int[] {0, src.offset()});
        int ps = loop.innerStride(0);
        int ss = loop.innerStride(1);
        Object from = src.storage().array();
        Object to = out.storage().array();
        loop.forEachRow((p, s, u1, u2, len) -> {
            if (from instanceof float[] a && to instanceof float[] b) {
                for (int i = 0; i < len; i++) {
                    int q = p + i * ps;
                    b[q] = a[s + i * ss + (int) idx[q] * sd];
                }
            } else if (from instanceof double[] a && to instanceof double[] b) {
                for (int i = 0; i < len; i++) {
                    int q = p + i * ps;
                    b[q] = a[s + i * ss + (int) idx[q] * sd];
                }
            } else {
                for (int i = 0; i < len; i++) {
                    int q = p + i * ps;
                    System.arraycopy(from, s + i * ss + (int) idx[q] * sd, to, q, 1);
                }
            }
        });
        return out;
    }

    // ---------------------------------------------------------------- scatter, scatter_add

    /**
     * Out-of-place scatter: a copy of {@code x} with {@code out[index[i][j][k]][j][k] = src[i][j][k]}
     * for {@code dim = 0} (likewise for other dims). {@code index} and {@code src} have x's rank;
     * index's size is at most src's on every dim and at most x's on every dim but {@code dim}; only
     * the leading index-shaped block of {@code src} is read. {@code src} must have x's dtype (as in
     * PyTorch). Where several entries name the same position the last one in index order along
     * {@code dim} wins, on any thread count, because each line along {@code dim} is written by one
     * thread in order.
     */
    public static Tensor scatter(Tensor x, int dim, Tensor index, Tensor src) {
        return scatterImpl("scatter", x, dim, index, src, false);
    }

    /** {@link #scatter(Tensor, int, Tensor, Tensor)} with every written value equal to {@code value}. */
    public static Tensor scatter(Tensor x, int dim, Tensor index, double value) {
        return Dispatch.run("scatter_value", new Object[] {dim, value}, in -> scatterImpl("scatter", in[0], dim, in[1],
                Tensor.full(value, in[0].dtype()).expand(in[1].shape()), false), x, index);
    }

    /**
     * Out-of-place scatter-add: a copy of {@code x} with {@code out[index[i][j][k]][j][k] += src[i][j][k]}
     * for {@code dim = 0} (likewise for other dims); shape rules as {@link #scatter}. Sums are taken
     * in the compute type (F32 for F32 and halves, F64, I64 for integers) and added in index order
     * along {@code dim}, one line per thread, so floating results are bitwise identical for any thread
     * count (PyTorch leaves the order unspecified).
     */
    public static Tensor scatterAdd(Tensor x, int dim, Tensor index, Tensor src) {
        return scatterImpl("scatter_add", x, dim, index, src, true);
    }

    private static Tensor scatterImpl(String op, Tensor x, int dim, Tensor index, Tensor src, boolean add) {
        long[] idx = indexValues(op, index);
        if (x.rank() != index.rank() || src.rank() != index.rank()) {
            throw new IllegalArgumentException(op + ": input " + Shapes.str(x.shape()) + ", index " + Shapes.str(index.shape())
                    + " and src " + Shapes.str(src.shape()) + " must have the same number of dims");
        }
        if (src.dtype() != x.dtype()) {
            throw new IllegalArgumentException(op + ": src dtype " + src.dtype() + " must match input dtype " + x.dtype());
        }
        Tensor xt = x.rank() == 0 ? x.reshape(1) : x;
        Tensor st = src.rank() == 0 ? src.reshape(1) : src;
        int[] is = index.rank() == 0 ? new int[] {1} : index.shape();
        int d = Shapes.dim(op, dim, xt.rank());
        int[] xs = xt.shape();
        int[] ss = st.shape();
        for (int k = 0; k < xs.length; k++) {
            if (is[k] > ss[k]) {
                throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape()) + " exceeds src shape "
                        + Shapes.str(src.shape()) + " at dim " + k);
            }
            if (k != d && is[k] > xs[k]) {
                throw new IllegalArgumentException(op + ": index shape " + Shapes.str(index.shape()) + " exceeds input shape "
                        + Shapes.str(x.shape()) + " at dim " + k);
            }
        }
        checkRange(op, idx, dim, xs[d]);
        DType compute = add ? x.dtype().computeType() : x.dtype();
        Tensor out = Tensor.zeros(compute, xs);
        Copy.copy(xt, out);
        if (idx.length > 0) {
            Tensor s = add ? Ops.materialize(st, compute) : arrayBacked(st);
            scatterKernel(is, d, idx, s, out, add);
        }
        return out.to(x.dtype()).reshape(x.shape());
    }

    /**
     * Walks index-shaped lines along {@code d}: the lines run in parallel (they write disjoint
     * output lines, as only the coordinate along {@code d} is redirected), each line in order.
     */
    private static void scatterKernel(int[] is, int d, long[] idx, Tensor src, Tensor out, boolean add) {
        int[] pst = Shapes.contiguousStrides(is);
        int[] sst = src.strides();
        int[] ost = out.strides();
        int lineLength = is[d];
        int pd = pst[d];
        int sd = sst[d];
        int od = ost[d];
        StridedLoop loop = new StridedLoop(Views.remove(is, d),
                new int[][] {Views.remove(pst, d), Views.remove(sst, d), Views.remove(ost, d)}, new int[] {0, src.offset(), 0});
        int pi = loop.innerStride(0);
        int si = loop.innerStride(1);
        int oi = loop.innerStride(2);
        Object from = src.storage().array();
        Object to = out.storage().array();
        loop.forEachRow((p0, s0, o0, u, len) -> {
            for (int j = 0; j < len; j++) {
                int p = p0 + j * pi;
                int s = s0 + j * si;
                int o = o0 + j * oi;
                if (!add) {
                    for (int t = 0; t < lineLength; t++) {
                        System.arraycopy(from, s + t * sd, to, o + (int) idx[p + t * pd] * od, 1);
                    }
                } else if (to instanceof float[] b) {
                    float[] a = (float[]) from;
                    for (int t = 0; t < lineLength; t++) {
                        b[o + (int) idx[p + t * pd] * od] += a[s + t * sd];
                    }
                } else if (to instanceof double[] b) {
                    double[] a = (double[]) from;
                    for (int t = 0; t < lineLength; t++) {
                        b[o + (int) idx[p + t * pd] * od] += a[s + t * sd];
                    }
                } else {
                    long[] b = (long[]) to;
                    long[] a = (long[]) from;
                    for (int t = 0; t < lineLength; t++) {
                        b[o + (int) idx[p + t * pd] * od] += a[s + t * sd];
                    }
                }
            }
        });
    }

    // ---------------------------------------------------------------- one_hot

    /**
     * One-hot encoding: an I64 tensor of shape {@code ids.shape + [numClasses]} with
     * {@code out[i..., c] = (ids[i...] == c) ? 1 : 0}. {@code numClasses = -1} infers
     * {@code max(ids) + 1}, as PyTorch does. Ids must lie in {@code [0, numClasses)}.
     */
    public static Tensor oneHot(Tensor ids, int numClasses) {
        String op = "one_hot";
        long[] v = indexValues(op, ids);
        int classes = numClasses;
        if (numClasses == -1) {
            if (v.length == 0) {
                throw new IllegalArgumentException(op + ": cannot infer numClasses from an empty tensor of shape " + Shapes.str(ids.shape()));
            }
            long max = Arrays.stream(v).max().getAsLong();
            if (max >= Integer.MAX_VALUE) {
                throw new IllegalArgumentException(op + ": class value " + max + " is too large");
            }
            classes = (int) Math.max(max + 1, 1);
        } else if (numClasses < 0) {
            throw new IllegalArgumentException(op + ": numClasses must be -1 or non-negative, got " + numClasses);
        }
        for (long c : v) {
            if (c < 0) {
                throw new IllegalArgumentException(op + ": class values must be non-negative, got " + c);
            }
            if (c >= classes) {
                throw new IllegalArgumentException(op + ": class value " + c + " out of range for " + classes + " classes");
            }
        }
        int[] ishape = ids.shape();
        int[] outShape = Arrays.copyOf(ishape, ishape.length + 1);
        outShape[ishape.length] = classes;
        Tensor out = Tensor.zeros(DType.I64, Shapes.checkShape(op, outShape));
        long[] o = out.storage().longs();
        for (int i = 0; i < v.length; i++) {
            o[i * classes + (int) v[i]] = 1;
        }
        return out;
    }

    // ---------------------------------------------------------------- sort, argsort, topk

    /**
     * Sorts along {@code dim} (ascending unless {@code descending}). Stable: equal values keep their
     * input order, so {@code indices} is the unique stable permutation; NaN sorts as the largest
     * value (last ascending, first descending), as in PyTorch. Indices are I64; values keep x's dtype.
     */
    public static Sorted sort(Tensor x, int dim, boolean descending) {
        String op = "sort";
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        int d = Shapes.dim(op, dim, t.rank());
        Tensor indices = Sorting.sortIndices(t, d, descending, t.shape()[d]);
        Tensor values = gather(t, d, indices);
        return new Sorted(values.reshape(x.shape()), indices.reshape(x.shape()));
    }

    /** The indices of {@link #sort} (stable; I64). */
    public static Tensor argsort(Tensor x, int dim, boolean descending) {
        String op = "argsort";
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        int d = Shapes.dim(op, dim, t.rank());
        return Sorting.sortIndices(t, d, descending, t.shape()[d]).reshape(x.shape());
    }

    /**
     * The {@code k} largest ({@code largest = true}) or smallest values along {@code dim} and their
     * I64 indices; the output has x's shape with {@code size(dim) = k}. Ties go to the lower index
     * first (the order of a stable sort). Results are always in sorted order, also when
     * {@code sorted = false} (PyTorch then leaves the order unspecified; sorted is one valid order).
     */
    public static TopK topk(Tensor x, int k, int dim, boolean largest, boolean sorted) {
        String op = "topk";
        Tensor t = x.rank() == 0 ? x.reshape(1) : x;
        int d = Shapes.dim(op, dim, t.rank());
        int n = t.shape()[d];
        if (k < 0 || k > n) {
            throw new IllegalArgumentException(op + ": k " + k + " out of range for dim " + dim + " of size " + n);
        }
        Tensor indices = Sorting.sortIndices(t, d, largest, k);
        Tensor values = gather(t, d, indices);
        if (x.rank() == 0 && k == 1) {
            return new TopK(values.reshape(), indices.reshape());
        }
        return new TopK(values, indices);
    }

    // ---------------------------------------------------------------- tril, triu

    /**
     * Lower triangle of the last two dims: {@code out[..., i, j] = j - i <= diagonal ? x[..., i, j] : 0}.
     * {@code diagonal = 0} keeps the main diagonal, positive values keep diagonals above it.
     */
    public static Tensor tril(Tensor x, int diagonal) {
        return triangle("tril", x, diagonal, true);
    }

    /** Upper triangle of the last two dims: {@code out[..., i, j] = j - i >= diagonal ? x[..., i, j] : 0}. */
    public static Tensor triu(Tensor x, int diagonal) {
        return triangle("triu", x, diagonal, false);
    }

    /**
     * A BOOL [rows, cols] mask, true where {@code j - i <= diagonal} (PyTorch's
     * {@code torch.ones(rows, cols, dtype=bool).tril(diagonal)}); the causal attention mask is
     * {@code trilMask(t, t, 0)}.
     */
    public static Tensor trilMask(int rows, int cols, int diagonal) {
        Tensor out = Tensor.zeros(DType.BOOL, Shapes.checkShape("tril_mask", rows, cols));
        byte[] b = (byte[]) out.storage().array();
        for (int i = 0; i < rows; i++) {
            int end = Math.clamp((long) i + diagonal + 1, 0, cols);
            Arrays.fill(b, i * cols, i * cols + end, (byte) 1);
        }
        return out;
    }

    private static Tensor triangle(String op, Tensor x, int diagonal, boolean lower) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException(op + ": needs at least 2 dims, got shape " + Shapes.str(x.shape()));
        }
        Tensor out = x.copy();
        int rows = x.size(-2);
        int cols = x.size(-1);
        if (out.numel() == 0) {
            return out;
        }
        int mats = out.numel() / (rows * cols);
        Object a = out.storage().array();
        for (int m = 0; m < mats; m++) {
            for (int i = 0; i < rows; i++) {
                int base = (m * rows + i) * cols;
                if (lower) {
                    int from = Math.clamp((long) i + diagonal + 1, 0, cols);
                    zero(a, base + from, base + cols);
                } else {
                    int to = Math.clamp((long) i + diagonal, 0, cols);
                    zero(a, base, base + to);
                }
            }
        }
        return out;
    }

    private static void zero(Object a, int from, int to) {
        if (from >= to) {
            return;
        }
        switch (a) {
            case float[] f -> Arrays.fill(f, from, to, 0f);
            case double[] f -> Arrays.fill(f, from, to, 0d);
            case short[] f -> Arrays.fill(f, from, to, (short) 0); // +0 in both BF16 and F16
            case int[] f -> Arrays.fill(f, from, to, 0);
            case long[] f -> Arrays.fill(f, from, to, 0L);
            case byte[] f -> Arrays.fill(f, from, to, (byte) 0);
            default -> throw new IllegalStateException("unreachable");
        }
    }

    // ---------------------------------------------------------------- multinomial

    /**
     * Draws {@code numSamples} category indices per row of {@code probs} (1-d: one distribution;
     * 2-d: one per row), category {@code c} with probability {@code w[c] / sum(w)}. Weights must be
     * finite and non-negative with a positive sum; they need not be normalised. A zero-weight category
     * is never drawn. Returns I64 of shape [numSamples] or [rows, numSamples].
     *
     * <p>With replacement each sample inverts the row's cumulative sum at {@code u * sum(w)}.
     * Without replacement every category gets the key {@code w[c] / E[c]} with {@code E[c]}
     * exponential, and the {@code numSamples} largest keys are taken in decreasing order: the
     * minimum of exponentials with rates {@code w[c]} picks {@code c} with probability
     * {@code w[c] / sum(w)} and, being memoryless, the rest continue as draws from the remaining
     * weights, so this equals sequential sampling without replacement (PyTorch uses the same trick).
     * The generator is consumed on the calling thread in row order, so the same seed gives the same
     * samples for any thread count; on invalid input it is not advanced.
     */
    public static Tensor multinomial(Tensor probs, int numSamples, boolean replacement, Generator g) {
        String op = "multinomial";
        Objects.requireNonNull(g, op + ": generator is null");
        if (probs.rank() < 1 || probs.rank() > 2) {
            throw new IllegalArgumentException(op + ": probs must be 1-d or 2-d, got shape " + Shapes.str(probs.shape()));
        }
        if (!probs.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": probs must be floating, got " + probs.dtype());
        }
        if (numSamples <= 0) {
            throw new IllegalArgumentException(op + ": numSamples must be positive, got " + numSamples);
        }
        int rows = probs.rank() == 1 ? 1 : probs.size(0);
        int n = probs.size(-1);
        if (n == 0) {
            throw new IllegalArgumentException(op + ": probs of shape " + Shapes.str(probs.shape()) + " has no categories");
        }
        double[] w = probs.numel() == 0 ? new double[0] : probs.toDoubleArray();
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            int positive = 0;
            for (int c = 0; c < n; c++) {
                double v = w[r * n + c];
                if (!(v >= 0) || v == Double.POSITIVE_INFINITY) {
                    throw new IllegalArgumentException(op + ": weight " + v + " at row " + r + ", category " + c
                            + " is negative, NaN or infinite");
                }
                sum += v;
                positive += v > 0 ? 1 : 0;
            }
            if (!(sum > 0) || Double.isInfinite(sum)) {
                throw new IllegalArgumentException(op + ": row " + r + " has total weight " + sum + "; it must be positive and finite");
            }
            if (!replacement && positive < numSamples) {
                throw new IllegalArgumentException(op + ": cannot draw " + numSamples + " samples without replacement from row "
                        + r + " with only " + positive + " non-zero categories");
            }
        }
        long[] out = new long[rows * numSamples];
        for (int r = 0; r < rows; r++) {
            if (replacement) {
                Sorting.sampleWithReplacement(w, r * n, n, g, out, r * numSamples, numSamples);
            } else {
                Sorting.sampleWithoutReplacement(w, r * n, n, g, out, r * numSamples, numSamples);
            }
        }
        return probs.rank() == 1 ? Tensor.of(out, numSamples) : Tensor.of(out, rows, numSamples);
    }

    // ---------------------------------------------------------------- helpers

    /** The index tensor's values in row-major order, after checking its dtype. */
    private static long[] indexValues(String op, Tensor index) {
        if (index.dtype() != DType.I32 && index.dtype() != DType.I64) {
            throw new IllegalArgumentException(op + ": index must be I32 or I64, got " + index.dtype());
        }
        // an empty view may carry an offset past its storage's end, which the array copies reject
        return index.numel() == 0 ? new long[0] : index.toLongArray();
    }

    private static void checkRange(String op, long[] idx, int dim, int size) {
        for (long v : idx) {
            if (v < 0 || v >= size) {
                throw new IndexOutOfBoundsException(op + ": index " + v + " out of range for dim " + dim + " of size " + size);
            }
        }
    }

    /** {@code t} itself when it is heap storage (kernels index arrays), otherwise a contiguous heap copy. */
    private static Tensor arrayBacked(Tensor t) {
        return t.storage().array() != null ? t : t.copy();
    }
}
