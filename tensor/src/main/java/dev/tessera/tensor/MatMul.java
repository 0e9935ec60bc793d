package dev.tessera.tensor;

/**
 * NumPy-style matmul over {@link Gemm}. Operands are passed with their own strides, so transposed,
 * sliced and expanded (stride-0 batch) operands are read in place without copying; only storage
 * the kernels cannot address (mapped segments, or a dtype conversion) is materialised.
 */
final class MatMul {
    /**
     * Below this many multiply-adds per batch entry, batches run in parallel rather than inside
     * GEMM (attention's per-head products split badly across threads on their own).
     */
    private static final long SMALL_GEMM = 1 << 24;
    /** Multiply-adds below which a batched product runs on the calling thread. */
    private static final long PARALLEL_BATCH_WORK = 1 << 20;

    private MatMul() {}

    /** a·b written into {@code into} (see {@link Tensor#matmulInto}). */
    static Tensor matmulInto(Tensor a, Tensor b, Tensor into) {
        return intoOut(a, b, into, false);
    }

    /** into += a·b (see {@link Tensor#matmulAddInto}). */
    static Tensor matmulAddInto(Tensor a, Tensor b, Tensor into) {
        return intoOut(a, b, into, true);
    }

    private static Tensor intoOut(Tensor a, Tensor b, Tensor into, boolean accumulate) {
        Tensor product = matmul(a, b, into, accumulate);
        if (product == into) {
            into.storage().bumpVersion();
            return into;
        }
        if (!java.util.Arrays.equals(product.shape(), into.shape())) {
            throw new IllegalArgumentException((accumulate ? "matmul_add_into" : "matmul_into") + ": product "
                    + Shapes.str(product.shape()) + " " + product.dtype() + " does not fit out " + Shapes.str(into.shape()) + " "
                    + into.dtype());
        }
        // an out the kernels cannot write (another dtype, off-heap, strided rows): the product, converted into it or added
        return accumulate ? into.addInPlace(product) : into.copyFromInPlace(product);
    }

    static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, null, false);
    }

    /** Whether the GEMMs may write the product straight into {@code into}: its shape, the output type, rows of unit stride. */
    private static boolean writable(Tensor into, int[] shape, DType outType, DType result) {
        if (into == null || into.dtype() != outType || outType != result || into.storage().array() == null
                || !java.util.Arrays.equals(into.shape(), shape)) {
            return false;
        }
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] > 1 && into.stride(d) == 0) {
                return false; // expanded: entries would share memory
            }
        }
        int m = shape[shape.length - 2];
        int n = shape[shape.length - 1];
        return (into.stride(-1) == 1 || n == 1) && (m == 1 || into.stride(-2) >= n);
    }

    /**
     * a·b, written into {@code into} (and returning it) when {@link #writable}, into a new tensor
     * otherwise; with {@code accumulate} a writable {@code into} gets into + a·b.
     */
    private static Tensor matmul(Tensor a, Tensor b, Tensor into, boolean accumulate) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IllegalArgumentException("matmul: both operands need at least 1 dim, got shapes " + Shapes.str(a.shape())
                    + " and " + Shapes.str(b.shape()));
        }
        boolean vecA = a.rank() == 1;
        boolean vecB = b.rank() == 1;
        Tensor x = vecA ? a.unsqueeze(0) : a;
        Tensor y = vecB ? b.unsqueeze(1) : b;
        int m = x.size(-2);
        int k = x.size(-1);
        int n = y.size(-1);
        if (y.size(-2) != k) {
            throw new IllegalArgumentException("matmul: shapes " + Shapes.str(a.shape()) + " and " + Shapes.str(b.shape())
                    + " do not match (" + k + " != " + y.size(-2) + ")");
        }
        int[] batchA = java.util.Arrays.copyOf(x.shape(), x.rank() - 2);
        int[] batchB = java.util.Arrays.copyOf(y.shape(), y.rank() - 2);
        int[] batch = Shapes.broadcast("matmul", batchA, batchB);
        DType result = DType.promote(a.dtype(), b.dtype());
        DType compute = switch (result) {
            case F32, F64, BF16, F16 -> result;
            default -> DType.F64; // integer matmul: exact below 2^53
        };
        x = Ops.materialize(x, compute);
        y = Ops.materialize(y, compute);
        int[] outShape = new int[batch.length + 2];
        System.arraycopy(batch, 0, outShape, 0, batch.length);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        DType outType = compute == DType.F64 ? DType.F64 : DType.F32;
        boolean direct = !vecA && !vecB && writable(into, outShape, outType, result);
        boolean add = direct && accumulate;
        Tensor out = direct ? into : Tensor.zeros(outType, outShape);
        int ldc = direct && m > 1 ? out.stride(-2) : n;
        int[] cStrides = java.util.Arrays.copyOf(out.strides(), batch.length);
        if (!direct) {
            for (int d = batch.length - 1, st = m * n; d >= 0; st *= batch[d], d--) {
                cStrides[d] = st;
            }
        }
        // (..., m, k) @ (k, n) with a foldable batch: one tall GEMM instead of many small ones
        if (y.rank() == 2 && batch.length > 0 && (!direct || out.isContiguous())) {
            Tensor x2 = x.reshape((int) (Shapes.numel(batch) * m), k);
            gemm(x2, 0, y, 0, out, out.offset(), ldc, x2.size(0), n, k, add);
        } else {
            int[] aStrides = Shapes.broadcastStrides("matmul", batchA, java.util.Arrays.copyOf(x.strides(), batchA.length), batch);
            int[] bStrides = Shapes.broadcastStrides("matmul", batchB, java.util.Arrays.copyOf(y.strides(), batchB.length), batch);
            int batches = (int) Shapes.numel(batch);
            Tensor xa = x;
            Tensor yb = y;
            java.util.function.IntConsumer one = i -> {
                int ao = 0;
                int bo = 0;
                int co = out.offset();
                for (int d = batch.length - 1, rest = i; d >= 0; rest /= batch[d], d--) {
                    int idx = rest % batch[d];
                    ao += idx * aStrides[d];
                    bo += idx * bStrides[d];
                    co += idx * cStrides[d];
                }
                gemm(xa, ao, yb, bo, out, co, ldc, m, n, k, add);
            };
            // small products share the pool by batch, when there is enough work in all to pay for a
            // fork (one decoding step's attention over the cache is far below it)
            if ((long) m * n * k < SMALL_GEMM && batches > 1 && (long) batches * m * n * k >= PARALLEL_BATCH_WORK) {
                Parallel.forEachChunk(batches, one);
            } else {
                for (int i = 0; i < batches; i++) {
                    one.accept(i);
                }
            }
        }
        if (direct) {
            return out;
        }
        Tensor r = out.to(result);
        if (vecA) {
            r = r.squeeze(-2);
        }
        if (vecB) {
            r = r.squeeze(-1);
        }
        return r;
    }

    /** One GEMM on the last two dims of x and y, batch offsets added to their view offsets. */
    private static void gemm(Tensor x, int xBatchOffset, Tensor y, int yBatchOffset, Tensor out, int outOffset, int ldc, int m, int n,
            int k, boolean accumulate) {
        int ar = x.stride(-2);
        int ac = x.stride(-1);
        int br = y.stride(-2);
        int bc = y.stride(-1);
        int ao = x.offset() + xBatchOffset;
        int bo = y.offset() + yBatchOffset;
        switch (x.dtype()) {
            case F32 -> Gemm.sgemm(m, n, k, x.storage().floats(), ao, ar, ac, y.storage().floats(), bo, br, bc,
                    out.storage().floats(), outOffset, ldc, accumulate);
            case F64 -> Gemm.dgemm(m, n, k, x.storage().doubles(), ao, ar, ac, y.storage().doubles(), bo, br, bc,
                    out.storage().doubles(), outOffset, ldc, accumulate);
            case BF16, F16 -> Gemm.hgemm(x.dtype() == DType.BF16, m, n, k, (short[]) x.storage().array(), ao, ar, ac,
                    (short[]) y.storage().array(), bo, br, bc, out.storage().floats(), outOffset, ldc, accumulate);
            default -> throw new IllegalStateException("matmul: unexpected compute type " + x.dtype());
        }
    }
}
