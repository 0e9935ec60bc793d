package dev.tessera.gpu;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Tensor;
import dev.tessera.tensor.UnaryOp;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend's op table: op key ({@link CudaTensorBackend#opKey}) to the {@link CudaOps}
 * calls that compute what the op's host kernel computes, in F32. Left out on purpose: ops whose
 * host result differs in kind (comparisons and LOGICAL_NOT give BOOL, the kernels write F32), in
 * edge cases (SIGN: the kernel keeps NaN and −0, the host gives +0), or that need a kernel that does
 * not exist yet (general gather/scatter, label smoothing).
 * A case an entry does not handle (another dtype, a broadcast batched matmul, a strided in-place
 * target) throws a one-line {@link UnsupportedOperationException} when it runs.
 *
 * <p>Custom functions return {@code [output, saved...]} from forward and receive
 * {@code [gradient, saved...]} in backward; both run here, so the saved list is this table's own
 * (RMSNorm saves its per-row 1/rms, the kernels' layout) and need not match the host kernel's.
 */
final class CudaKernels {
    /** One op's CUDA implementation. */
    interface Kernel {
        Object run(CudaCall c);
    }

    /** An op's kernel and the {@link CudaOps} methods it calls (checked to exist by CudaCoverageTest). */
    record Entry(List<String> uses, Kernel kernel) {}

    static final Map<String, Entry> TABLE = table();

    private CudaKernels() {}

    private static Map<String, Entry> table() {
        Map<String, Entry> t = new LinkedHashMap<>();
        for (UnaryOp op : UnaryOp.values()) {
            if (op != UnaryOp.LOGICAL_NOT && op != UnaryOp.SIGN) {
                t.put("unary " + op, new Entry(List.of("unary", "contiguous"), c -> c.result(c.ops.unary(op, c.dense(0)))));
                t.put("unary_ " + op, new Entry(List.of("unaryInto"), c -> {
                    DeviceTensor x = c.inPlace(0);
                    c.ops.unaryInto(op, x, x);
                    c.wrote(0);
                    return null;
                }));
            }
        }
        for (BinaryOp op : BinaryOp.values()) {
            if (!op.isPredicate()) {
                t.put("binary " + op, new Entry(List.of("binary"), c -> c.result(c.ops.binary(op, c.f32(0), c.f32(1)))));
                t.put("binary_ " + op, new Entry(List.of("binaryInto"), c -> {
                    DeviceTensor a = c.inPlace(0);
                    c.ops.binaryInto(op, a, c.f32(1), a);
                    c.wrote(0);
                    return null;
                }));
            }
        }
        t.put("copy -", new Entry(List.of("contiguous"), c -> c.result(c.ops.contiguous(c.f32(0)))));
        // x·1 is x bit for bit (−0 included), so the broadcasting binary kernel is a strided copy into place
        t.put("copy_ -", new Entry(List.of("binaryInto"), c -> {
            DeviceTensor dst = c.inPlace(0);
            c.ops.binaryInto(BinaryOp.MUL, c.f32(1), c.upload(Tensor.scalar(1)), dst);
            c.wrote(0);
            return null;
        }));
        t.put("fill_ Double", new Entry(List.of("fill"), c -> {
            c.ops.fill(c.inPlace(0), (float) (double) (Double) c.attributes());
            c.wrote(0);
            return null;
        }));
        t.put("to_dtype BF16", new Entry(List.of("toBf16", "contiguous"), c -> c.result(c.ops.toBf16(c.dense(0)))));
        t.put("to_dtype F32", new Entry(List.of("bf16ToF32"), c -> {
            DeviceTensor x = c.view(c.tensor(0), DType.BF16, "input 0");
            if (!x.isContiguous()) {
                throw c.unsupported("the cuda BF16 → F32 kernel reads contiguous tensors only");
            }
            return c.result(c.ops.bf16ToF32(x));
        }));
        t.put("matmul -", new Entry(List.of("matmul", "contiguous"), CudaKernels::matmul));
        t.put("softmax Integer", new Entry(List.of("softmax", "contiguous"), c -> {
            Tensor x = c.tensor(0);
            int dim = (Integer) c.attributes();
            if (x.rank() == 0 || (dim < 0 ? dim + x.rank() : dim) != x.rank() - 1) {
                throw c.unsupported("the cuda kernel takes the softmax over the last dim only, not dim " + dim + " of rank " + x.rank());
            }
            return c.result(c.ops.softmax(c.dense(0), null, 0));
        }));
        for (String reduce : List.of("sum", "mean")) {
            Entry e = new Entry(List.of("reduceRows", "binaryInto", "contiguous"), c -> reduce(c, reduce.equals("mean")));
            t.put(reduce + " int[]", e);
            t.put(reduce + " Object[]", e);
        }
        Kernel swigluForward = c -> c.result(c.ops.swiglu(c.dense(0), c.dense(1)));
        Kernel swigluBackward = c -> results(c, c.ops.swigluBackward(c.dense(2), c.dense(0), c.dense(1))); // (a, b, g)
        t.put("swiglu -", new Entry(List.of("swiglu"), swigluForward));
        t.put("swiglu_backward -", new Entry(List.of("swigluBackward"), swigluBackward));
        t.put("swiglu SwiGluFunction", new Entry(List.of("swiglu"), c -> new Tensor[] {(Tensor) swigluForward.run(c), c.tensor(0), c.tensor(1)}));
        t.put("swiglu.backward SwiGluFunction", new Entry(List.of("swigluBackward"), // (g, a, b)
                c -> results(c, c.ops.swigluBackward(c.dense(0), c.dense(1), c.dense(2)))));
        t.put("embedding -", new Entry(List.of("embedding", "contiguous"), c -> c.result(c.ops.embedding(c.dense(0), ids(c, 1)))));
        t.put("embedding_backward Integer", new Entry(List.of("embeddingBackward", "contiguous"), // (g, ids)
                c -> c.result(c.ops.embeddingBackward(c.dense(0), ids(c, 1), (Integer) c.attributes()))));
        t.put("sum_squares_f64 -", new Entry(List.of("sumSquaresF64", "contiguous"), // (gradient, running 0-d F64 sum)
                c -> c.result(c.ops.sumSquaresF64(c.dense(0), c.view(c.tensor(1), DType.F64, "the running sum")))));
        FusedFunctions.register(t);
        return Map.copyOf(t);
    }

    /** Input {@code i} as the contiguous I64 ids the embedding kernels index by. */
    private static DeviceTensor ids(CudaCall c, int i) {
        DeviceTensor ids = c.view(c.tensor(i), DType.I64, "ids");
        if (!ids.isContiguous()) {
            throw c.unsupported("the cuda embedding kernels read contiguous ids, got shape " + Arrays.toString(ids.shape()) + " strides "
                    + Arrays.toString(ids.strides()));
        }
        return ids;
    }

    /** Tensors on the device for kernel outputs that the op returns as an array. */
    static Tensor[] results(CudaCall c, DeviceTensor... owned) {
        Tensor[] r = new Tensor[owned.length];
        for (int i = 0; i < owned.length; i++) {
            r[i] = owned[i] == null ? null : c.result(owned[i]);
        }
        return r;
    }

    /**
     * F32 GEMMs in full F32 by default, as the CPU computes them; {@code -Dtessera.cuda.tf32=true}
     * lets cuBLAS use TF32 tensor cores (10-bit mantissa inputs, F32 accumulation), as PyTorch's
     * {@code allow_tf32} does.
     */
    static final CudaOps.Precision F32_GEMM = Boolean.getBoolean("tessera.cuda.tf32") ? CudaOps.Precision.TF32 : CudaOps.Precision.F32;

    /**
     * matmul's NumPy semantics on cuBLAS: (M,K)@(K,N) with any strides; (..., M, K)@(K,N) with the
     * leading dims folded into M; (..., M, K)@(..., K, N) with equal batch dims as one batched GEMM.
     */
    private static Object matmul(CudaCall c) {
        DeviceTensor a = c.f32(0);
        DeviceTensor b = c.f32(1);
        int ra = a.rank();
        int rb = b.rank();
        if (ra < 2 || rb < 2) {
            throw c.unsupported("1-d operands have no cuda path (shapes " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()) + ")");
        }
        int[] as = a.shape();
        int m = as[ra - 2];
        int k = as[ra - 1];
        int n = b.size(-1);
        int[] out = Arrays.copyOf(as, ra);
        out[ra - 1] = n;
        if (rb == 2) {
            DeviceTensor a2 = ra == 2 ? a : c.dense(0).view((int) (a.numel() / Math.max(1, k)), k);
            return c.resultAs(c.ops.matmul(a2, b, F32_GEMM), out);
        }
        int[] batchA = Arrays.copyOf(as, ra - 2);
        int[] batchB = Arrays.copyOf(b.shape(), rb - 2);
        if (!Arrays.equals(batchA, batchB)) {
            throw c.unsupported("batch dims " + Arrays.toString(batchA) + " and " + Arrays.toString(batchB)
                    + " differ (a broadcast batched matmul has no cuda path)");
        }
        int batch = (int) (a.numel() / Math.max(1, (long) m * k));
        DeviceTensor a3 = c.dense(0).view(batch, m, k);
        DeviceTensor b3 = c.dense(1).view(batch, k, n);
        return c.resultAs(c.ops.matmul(a3, b3, F32_GEMM), out);
    }

    /**
     * A reduction over {@code dims} as a row reduction: the input's dims reordered so the kept ones
     * come first and the reduced ones last ({@code order}), the number of elements each output sums
     * ({@code rowLength}), and the result's shape.
     */
    record ReducePlan(int[] order, long rowLength, int[] outShape) {
        /** The plan for {@code shape} reduced over {@code dims} (all of them when empty), or a one-line error for bad dims. */
        static ReducePlan of(int[] shape, int[] dims, boolean keepDim) {
            int r = shape.length;
            boolean[] reduced = new boolean[r];
            for (int d : dims) {
                int n = d < 0 ? d + r : d;
                if (n < 0 || n >= r || reduced[n]) {
                    throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " are not distinct dims of a rank-" + r + " tensor");
                }
                reduced[n] = true;
            }
            if (dims.length == 0) {
                Arrays.fill(reduced, true);
            }
            int[] order = new int[r];
            int k = 0;
            long rowLength = 1;
            List<Integer> out = new java.util.ArrayList<>();
            for (int pass = 0; pass < 2; pass++) {
                for (int d = 0; d < r; d++) {
                    if (reduced[d] == (pass == 1)) {
                        order[k++] = d;
                        rowLength *= pass == 1 ? shape[d] : 1;
                    }
                }
            }
            for (int d = 0; d < r; d++) {
                if (!reduced[d] || keepDim) {
                    out.add(reduced[d] ? 1 : shape[d]);
                }
            }
            return new ReducePlan(order, rowLength, out.stream().mapToInt(Integer::intValue).toArray());
        }
    }

    /**
     * sum or mean over any dims, with keepDim: the reduced dims are moved last by a strided view,
     * gathered contiguous (no copy when they already are last), and summed per row by the
     * row-reduction kernel; mean then divides by the count.
     */
    private static Object reduce(CudaCall c, boolean mean) {
        int[] dims;
        boolean keepDim;
        if (c.attributes() instanceof Object[] a) {
            keepDim = (Boolean) a[0];
            dims = (int[]) a[1];
        } else {
            keepDim = false;
            dims = (int[]) c.attributes();
        }
        DeviceTensor v = c.f32(0);
        ReducePlan plan;
        try {
            plan = ReducePlan.of(v.shape(), dims, keepDim);
        } catch (IllegalArgumentException e) {
            throw c.unsupported(e.getMessage());
        }
        int[] shape = v.shape();
        long[] strides = v.strides();
        int[] movedShape = new int[shape.length];
        long[] movedStrides = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            movedShape[i] = shape[plan.order()[i]];
            movedStrides[i] = strides[plan.order()[i]];
        }
        DeviceTensor moved = v.withLayout(movedShape, movedStrides);
        DeviceTensor rows = moved.isContiguous() ? moved : c.temporary(c.ops.contiguous(moved));
        long count = plan.rowLength();
        DeviceTensor y = c.ops.reduceRows(ReduceOp.SUM, rows.view((int) (v.numel() / Math.max(1, count)), (int) count));
        if (mean) {
            c.ops.binaryInto(BinaryOp.DIV, y, c.upload(Tensor.scalar(count)), y);
        }
        return c.resultAs(y, plan.outShape());
    }
}
