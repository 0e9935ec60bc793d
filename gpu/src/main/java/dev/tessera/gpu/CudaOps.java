package dev.tessera.gpu;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.UnaryOp;
import java.util.Arrays;

/**
 * Tensor ops on a {@link CudaBackend}: cuBLAS matmul (F32, TF32, BF16 inputs with F32
 * accumulation) and the NVRTC-compiled kernels. Float kernels compute in F32 on contiguous F32
 * tensors (targets for cross-entropy are I64); results are new contiguous F32 tensors unless an
 * {@code ...Into} variant writes into a given one. Every method only queues work on the calling
 * thread's stream; nothing comes back to the host until {@link DeviceTensor#toHost()}.
 */
public final class CudaOps {
    /** Matmul arithmetic: exact F32, TF32 tensor cores (F32 in/out), or BF16 inputs with F32 accumulation and output. */
    public enum Precision { F32, TF32, BF16 }

    static final int THREADS = 256;

    private final CudaBackend b;

    public CudaOps(CudaBackend backend) {
        this.b = backend;
    }

    private static void requireF32(String op, DeviceTensor... ts) {
        for (DeviceTensor t : ts) {
            if (t == null) {
                continue;
            }
            if (t.dtype() != DType.F32) {
                throw new IllegalArgumentException("cuda " + op + ": needs F32 tensors, got " + t.dtype());
            }
            t.requireContiguous(op);
        }
    }

    private DeviceTensor f32(int... shape) {
        return DeviceTensor.empty(b, DType.F32, shape);
    }

    private static long lastDim(DeviceTensor t) {
        return t.rank() == 0 ? 1 : t.size(-1);
    }

    private static long rows(DeviceTensor t) {
        return t.numel() / Math.max(1, lastDim(t));
    }

    private static int[] dropLast(int[] s) {
        return Arrays.copyOf(s, Math.max(0, s.length - 1));
    }

    private void rowLaunch(String file, String fn, long rows, long cols, int sharedPerThread, KernelArgs args) {
        if (rows == 0) {
            return;
        }
        int threads = LaunchConfig.rowThreads(cols);
        b.launch(file, fn, LaunchConfig.perRow(rows, threads, threads * sharedPerThread), args);
    }

    private void elementLaunch(String file, String fn, long n, KernelArgs args) {
        if (n == 0) {
            return;
        }
        b.launch(file, fn, LaunchConfig.elementwise(n, THREADS), args);
    }

    // ------------------------------------------------------------------ elementwise

    public DeviceTensor unary(UnaryOp op, DeviceTensor x) {
        DeviceTensor y = f32(x.shape());
        unaryInto(op, x, y);
        return y;
    }

    public void unaryInto(UnaryOp op, DeviceTensor x, DeviceTensor y) {
        requireF32("unary", x, y);
        elementLaunch("elementwise", "unary_f32", x.numel(), new KernelArgs().ptr(x).ptr(y).i64(x.numel()).i32(op.ordinal()));
    }

    /** Elementwise binary op with NumPy broadcasting (operands may be any strided F32 views). */
    public DeviceTensor binary(BinaryOp op, DeviceTensor a, DeviceTensor c) {
        DeviceTensor y = f32(Broadcasting.broadcastShape(a.shape(), c.shape()));
        binaryInto(op, a, c, y);
        return y;
    }

    public void binaryInto(BinaryOp op, DeviceTensor a, DeviceTensor c, DeviceTensor y) {
        int[] out = Broadcasting.broadcastShape(a.shape(), c.shape());
        requireF32("binary", y);
        if (!Arrays.equals(out, y.shape()) || a.dtype() != DType.F32 || c.dtype() != DType.F32) {
            throw new IllegalArgumentException("cuda binary: F32 operands " + Arrays.toString(a.shape()) + " and "
                    + Arrays.toString(c.shape()) + " broadcast to " + Arrays.toString(out) + ", output is " + y);
        }
        long n = y.numel();
        if (Arrays.equals(a.shape(), out) && Arrays.equals(c.shape(), out) && a.isContiguous() && c.isContiguous()) {
            elementLaunch("elementwise", "binary_contig_f32", n, new KernelArgs().ptr(a).ptr(c).ptr(y).i64(n).i32(op.ordinal()));
            return;
        }
        long[] dims = Broadcasting.dims(out, Broadcasting.stridesIn(a.shape(), a.strides(), out),
                Broadcasting.stridesIn(c.shape(), c.strides(), out));
        elementLaunch("elementwise", "binary_strided_f32", n,
                new KernelArgs().ptr(a).ptr(c).ptr(y).i64(n).longs(dims).i32(op.ordinal()));
    }

    /** A contiguous copy of any strided F32 view. */
    public DeviceTensor contiguous(DeviceTensor x) {
        if (x.dtype() != DType.F32) {
            throw new IllegalArgumentException("cuda contiguous: F32 only, got " + x.dtype());
        }
        DeviceTensor y = f32(x.shape());
        long[] dims = Broadcasting.dims(x.shape(), x.strides(), null);
        elementLaunch("elementwise", "contiguous_f32", y.numel(), new KernelArgs().ptr(x).ptr(y).i64(y.numel()).longs(dims));
        return y;
    }

    public void fill(DeviceTensor y, float value) {
        requireF32("fill", y);
        elementLaunch("elementwise", "fill_f32", y.numel(), new KernelArgs().ptr(y).i64(y.numel()).f32(value));
    }

    public DeviceTensor toBf16(DeviceTensor x) {
        requireF32("toBf16", x);
        DeviceTensor y = DeviceTensor.empty(b, DType.BF16, x.shape());
        elementLaunch("elementwise", "f32_to_bf16", x.numel(), new KernelArgs().ptr(x).ptr(y).i64(x.numel()));
        return y;
    }

    public DeviceTensor bf16ToF32(DeviceTensor x) {
        if (x.dtype() != DType.BF16) {
            throw new IllegalArgumentException("cuda bf16ToF32: needs BF16, got " + x.dtype());
        }
        DeviceTensor y = f32(x.shape());
        elementLaunch("elementwise", "bf16_to_f32", x.numel(), new KernelArgs().ptr(x).ptr(y).i64(x.numel()));
        return y;
    }

    // ------------------------------------------------------------------ matmul

    /** {@code a @ b} for 2-d {@code (M,K) @ (K,N)} or batched 3-d {@code (B,M,K) @ (B,K,N)}. */
    public DeviceTensor matmul(DeviceTensor a, DeviceTensor c, Precision p) {
        int r = a.rank();
        int[] shape = r == 2 ? new int[] {a.size(0), c.size(1)} : new int[] {a.size(0), a.size(1), c.size(2)};
        DeviceTensor y = f32(shape);
        matmulInto(a, c, y, p);
        return y;
    }

    public void matmulInto(DeviceTensor a, DeviceTensor c, DeviceTensor y, Precision p) {
        if (a.rank() != c.rank() || (a.rank() != 2 && a.rank() != 3) || a.size(-1) != c.size(-2)
                || (a.rank() == 3 && a.size(0) != c.size(0))) {
            throw new IllegalArgumentException("cuda matmul: shapes " + Arrays.toString(a.shape()) + " @ "
                    + Arrays.toString(c.shape()) + " (need (M,K)@(K,N) or (B,M,K)@(B,K,N))");
        }
        requireF32("matmul output", y);
        int m = a.size(-2), k = a.size(-1), n = c.size(-1);
        DeviceTensor aa = a, cc = c;
        DeviceTensor tmpA = null, tmpC = null;
        try {
            int type = Cublas.CUDA_R_32F;
            if (p == Precision.BF16) {
                type = Cublas.CUDA_R_16BF;
                if (a.dtype() != DType.BF16) {
                    tmpA = bf16Copy(a);
                    aa = tmpA;
                }
                if (c.dtype() != DType.BF16) {
                    tmpC = bf16Copy(c);
                    cc = tmpC;
                }
            } else if (a.dtype() != DType.F32 || c.dtype() != DType.F32) {
                throw new IllegalArgumentException("cuda matmul " + p + ": needs F32 inputs, got " + a.dtype() + ", " + c.dtype());
            }
            long[] as = aa.strides(), cs = cc.strides();
            int o = aa.rank() - 2;
            GemmMapping.Call call = GemmMapping.plan(m, n, k, as[o], as[o + 1], cs[o], cs[o + 1], Math.max(1, n));
            if (call == null || (aa.rank() == 3 && (!aa.isContiguous() || !cc.isContiguous()))) {
                if (p == Precision.BF16) {
                    throw new IllegalStateException("unreachable: BF16 operands are contiguous");
                }
                if (!aa.isContiguous()) {
                    tmpA = contiguous(aa);
                    aa = tmpA;
                }
                if (!cc.isContiguous()) {
                    tmpC = contiguous(cc);
                    cc = tmpC;
                }
                call = GemmMapping.planContiguous(m, n, k, false, false);
            }
            int compute = p == Precision.TF32 ? Cublas.CUBLAS_COMPUTE_32F_FAST_TF32 : Cublas.CUBLAS_COMPUTE_32F;
            if (m == 0 || n == 0) {
                return;
            }
            if (k == 0) {
                fill(y, 0f);
                return;
            }
            Cublas blas = b.cublas();
            if (aa.rank() == 2) {
                if (p == Precision.F32) {
                    blas.sgemm(b.cublasHandle(), call, cc.pointer(), aa.pointer(), y.pointer(), 1f, 0f);
                } else {
                    blas.gemmEx(b.cublasHandle(), call, cc.pointer(), type, aa.pointer(), type, y.pointer(), Cublas.CUDA_R_32F,
                            compute, 1f, 0f);
                }
            } else {
                blas.gemmStridedBatchedEx(b.cublasHandle(), call, cc.pointer(), type, (long) k * n, aa.pointer(), type,
                        (long) m * k, y.pointer(), Cublas.CUDA_R_32F, (long) m * n, a.size(0), compute, 1f, 0f);
            }
        } finally {
            // the allocator keeps freed blocks per stream, so work queued on this stream finishes
            // with them before any reuse on it
            if (tmpA != null) {
                tmpA.close();
            }
            if (tmpC != null) {
                tmpC.close();
            }
        }
    }

    /**
     * A contiguous BF16 copy of an F32 view; the intermediate F32 copy of a strided view is freed
     * here (stream order keeps it alive for the conversion kernel already queued).
     */
    private DeviceTensor bf16Copy(DeviceTensor x) {
        if (x.isContiguous()) {
            return toBf16(x);
        }
        try (DeviceTensor packed = contiguous(x)) {
            return toBf16(packed);
        }
    }

    // ------------------------------------------------------------------ reductions and softmax

    /** Reduces the last dimension: shape {@code (..., n)} becomes {@code (...)}. */
    public DeviceTensor reduceRows(ReduceOp op, DeviceTensor x) {
        DeviceTensor y = f32(dropLast(x.shape()));
        reduceRowsInto(op, x, y);
        return y;
    }

    public void reduceRowsInto(ReduceOp op, DeviceTensor x, DeviceTensor y) {
        requireF32("reduceRows", x, y);
        long cols = lastDim(x);
        rowLaunch("reduce", "reduce_rows_f32", rows(x), cols, 4,
                new KernelArgs().ptr(x).ptr(y).i64(rows(x)).i64(cols).i32(op.ordinal()));
    }

    /**
     * Softmax over the last dimension with an optional additive {@code mask} (its rows repeat over
     * x's rows) and, when {@code causalQueries > 0}, causal masking with that many queries per block of rows.
     */
    public DeviceTensor softmax(DeviceTensor x, DeviceTensor mask, int causalQueries) {
        DeviceTensor y = f32(x.shape());
        softmaxInto(x, mask, causalQueries, y);
        return y;
    }

    public void softmaxInto(DeviceTensor x, DeviceTensor mask, int causalQueries, DeviceTensor y) {
        requireF32("softmax", x, mask, y);
        long cols = lastDim(x);
        long maskRows = mask == null ? 1 : rows(mask);
        if (mask != null && lastDim(mask) != cols) {
            throw new IllegalArgumentException("cuda softmax: mask rows have " + lastDim(mask) + " columns, x has " + cols);
        }
        rowLaunch("softmax", "softmax_rows_f32", rows(x), cols, 0,
                new KernelArgs().ptr(x).ptr(mask).ptr(y).i64(rows(x)).i64(cols).i64(maskRows).i64(causalQueries));
    }

    public DeviceTensor softmaxBackward(DeviceTensor y, DeviceTensor dy) {
        return softmaxBackward(y, dy, 1f);
    }

    /** The gradient of y = softmax(scale·x) (masked or not) over the last dim: scale·y ⊙ (dy − Σ dy ⊙ y). */
    public DeviceTensor softmaxBackward(DeviceTensor y, DeviceTensor dy, float scale) {
        requireF32("softmaxBackward", y, dy);
        if (!Arrays.equals(y.shape(), dy.shape())) {
            throw new IllegalArgumentException("cuda softmaxBackward: y " + Arrays.toString(y.shape()) + " and dy "
                    + Arrays.toString(dy.shape()) + " differ");
        }
        DeviceTensor dx = f32(y.shape());
        rowLaunch("softmax", "softmax_bwd_rows_f32", rows(y), lastDim(y), 0,
                new KernelArgs().ptr(y).ptr(dy).ptr(dx).i64(rows(y)).i64(lastDim(y)).f32(scale));
        return dx;
    }

    /**
     * softmax(scale·x) over the last dim of contiguous F32 {@code x}, over the columns where the BOOL
     * {@code allowed} (any strides, broadcastable to x) is true; 0 elsewhere, a row with nothing allowed is zeros.
     */
    public DeviceTensor maskedSoftmax(DeviceTensor x, DeviceTensor allowed, float scale) {
        requireF32("maskedSoftmax", x);
        if (allowed.dtype() != DType.BOOL || x.rank() == 0) {
            throw new IllegalArgumentException("cuda maskedSoftmax: needs scores of rank >= 1 and a BOOL mask, got "
                    + Arrays.toString(x.shape()) + " and " + allowed.dtype());
        }
        long[] dims = Broadcasting.dims(x.shape(), Broadcasting.stridesIn(allowed.shape(), allowed.strides(), x.shape()), null);
        DeviceTensor y = f32(x.shape());
        rowLaunch("masked_softmax", "masked_softmax_f32", rows(x), lastDim(x), 0,
                new KernelArgs().ptr(x).ptr(allowed).ptr(y).i64(rows(x)).i64(lastDim(x)).longs(dims).f32(scale));
        return y;
    }

    /** out = running + Σ x² in double: a new 0-d F64 tensor (see grad_norm.cu for the fixed summation order). */
    public DeviceTensor sumSquaresF64(DeviceTensor x, DeviceTensor running) {
        requireF32("sumSquaresF64", x);
        if (running.dtype() != DType.F64 || running.numel() != 1) {
            throw new IllegalArgumentException("cuda sumSquaresF64: the running sum must be one F64 element, got " + running);
        }
        int blocks = LaunchConfig.sumSquaresBlocks(x.numel());
        DeviceTensor out = DeviceTensor.empty(b, DType.F64);
        try (DeviceTensor partial = DeviceTensor.empty(b, DType.F64, blocks)) {
            b.launch("grad_norm", "sum_squares_partial_f64", new LaunchConfig(blocks, 1, 1, LaunchConfig.SUM_SQUARES_THREADS, 1, 1, 0),
                    new KernelArgs().ptr(x).ptr(partial).i64(x.numel()));
            b.launch("grad_norm", "sum_squares_finish_f64", new LaunchConfig(1, 1, 1, LaunchConfig.SUM_SQUARES_THREADS, 1, 1, 0),
                    new KernelArgs().ptr(partial).ptr(running).ptr(out).i64(blocks));
        }
        return out;
    }

    // ------------------------------------------------------------------ embedding

    /** The table and ids of an embedding: F32 (V, C) contiguous, I64 ids contiguous. */
    private static void requireEmbedding(String op, DeviceTensor table, DeviceTensor ids) {
        requireF32(op, table);
        if (table.rank() != 2 || ids.dtype() != DType.I64) {
            throw new IllegalArgumentException("cuda " + op + ": needs an F32 (V, C) table and I64 ids, got " + table + " and " + ids);
        }
        ids.requireContiguous(op + " ids");
    }

    /** Rows of the (V, C) table {@code w} for each id: shape ids.shape + (C); an id outside [0, V) gives a NaN row. */
    public DeviceTensor embedding(DeviceTensor w, DeviceTensor ids) {
        requireEmbedding("embedding", w, ids);
        int[] shape = Arrays.copyOf(ids.shape(), ids.rank() + 1);
        shape[ids.rank()] = w.size(1);
        DeviceTensor out = f32(shape);
        elementLaunch("embedding", "embedding_fwd_f32", out.numel(),
                new KernelArgs().ptr(w).ptr(ids).ptr(out).i64(ids.numel()).i64(w.size(0)).i64(w.size(1)));
        return out;
    }

    /**
     * The (vocab, C) gradient of {@link #embedding} for {@code g} of shape ids.shape + (C): row v sums
     * g's rows where ids is v, in position order (the CPU's bits); deterministic, no atomics (embedding.cu).
     */
    public DeviceTensor embeddingBackward(DeviceTensor g, DeviceTensor ids, int vocab) {
        long cols = g.rank() == 0 ? 0 : g.size(-1);
        if (vocab < 0 || g.numel() != ids.numel() * cols) {
            throw new IllegalArgumentException("cuda embeddingBackward: gradient " + Arrays.toString(g.shape()) + " must be ids "
                    + Arrays.toString(ids.shape()) + " plus an embedding dim, vocab " + vocab + " >= 0");
        }
        DeviceTensor dw = zeros(new int[] {vocab, (int) cols});
        requireEmbedding("embeddingBackward", dw, ids);
        requireF32("embeddingBackward", g);
        if (cols > 0) {
            rowLaunch("embedding", "embedding_bwd_f32", ids.numel(), cols, 0,
                    new KernelArgs().ptr(g).ptr(ids).ptr(dw).i64(ids.numel()).i64(vocab).i64(cols));
        }
        return dw;
    }

    // ------------------------------------------------------------------ normalisation

    /** Output and the saved per-row statistics ({@code mean} is null for RMSNorm). */
    public record Norm(DeviceTensor y, DeviceTensor mean, DeviceTensor rstd) {}

    /** Gradients of a normalisation; {@code dw}/{@code db} are null when there is no weight/bias. */
    public record NormGrads(DeviceTensor dx, DeviceTensor dw, DeviceTensor db) {}

    public Norm rmsNorm(DeviceTensor x, DeviceTensor w, float eps) {
        requireF32("rmsNorm", x, w);
        DeviceTensor y = f32(x.shape());
        DeviceTensor rstd = f32(dropLast(x.shape()));
        rowLaunch("norm", "rmsnorm_fwd_f32", rows(x), lastDim(x), 0,
                new KernelArgs().ptr(x).ptr(w).ptr(y).ptr(rstd).i64(rows(x)).i64(lastDim(x)).f32(eps));
        return new Norm(y, null, rstd);
    }

    public NormGrads rmsNormBackward(DeviceTensor dy, DeviceTensor x, DeviceTensor w, DeviceTensor rstd) {
        requireF32("rmsNormBackward", dy, x, w, rstd);
        DeviceTensor dx = f32(x.shape());
        DeviceTensor dw = w == null ? null : zeros(w.shape());
        rowLaunch("norm", "rmsnorm_bwd_f32", rows(x), lastDim(x), 0,
                new KernelArgs().ptr(dy).ptr(x).ptr(w).ptr(rstd).ptr(dx).ptr(dw).i64(rows(x)).i64(lastDim(x)));
        return new NormGrads(dx, dw, null);
    }

    public Norm layerNorm(DeviceTensor x, DeviceTensor w, DeviceTensor bias, float eps) {
        requireF32("layerNorm", x, w, bias);
        DeviceTensor y = f32(x.shape());
        DeviceTensor mean = f32(dropLast(x.shape()));
        DeviceTensor rstd = f32(dropLast(x.shape()));
        rowLaunch("norm", "layernorm_fwd_f32", rows(x), lastDim(x), 0, new KernelArgs().ptr(x).ptr(w).ptr(bias).ptr(y)
                .ptr(mean).ptr(rstd).i64(rows(x)).i64(lastDim(x)).f32(eps));
        return new Norm(y, mean, rstd);
    }

    public NormGrads layerNormBackward(DeviceTensor dy, DeviceTensor x, DeviceTensor w, boolean hasBias, DeviceTensor mean,
            DeviceTensor rstd) {
        requireF32("layerNormBackward", dy, x, w, mean, rstd);
        DeviceTensor dx = f32(x.shape());
        DeviceTensor dw = w == null ? null : zeros(w.shape());
        DeviceTensor db = hasBias ? zeros(new int[] {(int) lastDim(x)}) : null;
        rowLaunch("norm", "layernorm_bwd_f32", rows(x), lastDim(x), 0, new KernelArgs().ptr(dy).ptr(x).ptr(w).ptr(mean)
                .ptr(rstd).ptr(dx).ptr(dw).ptr(db).i64(rows(x)).i64(lastDim(x)));
        return new NormGrads(dx, dw, db);
    }

    private DeviceTensor zeros(int[] shape) {
        DeviceTensor t = f32(shape);
        b.zero(t.pointer(), t.numel() * 4);
        return t;
    }

    // ------------------------------------------------------------------ RoPE, SwiGLU

    /**
     * Rotary embedding of {@code x} (last dim D even) with {@code (maxPos, D/2)} cos/sin tables.
     * Row r of x (all dims but the last flattened) is at position {@code (r / posDiv) % seqLen + posOffset}.
     */
    public DeviceTensor rope(DeviceTensor x, DeviceTensor cos, DeviceTensor sin, int posDiv, int seqLen, int posOffset,
            boolean halfSplit, boolean inverse) {
        requireF32("rope", x, cos, sin);
        long d = lastDim(x);
        if (d % 2 != 0 || lastDim(cos) != d / 2 || lastDim(sin) != d / 2 || rows(cos) != rows(sin)) {
            throw new IllegalArgumentException("cuda rope: head dim " + d + " must be even with cos/sin tables of width d/2"
                    + " and equal length, got cos " + Arrays.toString(cos.shape()) + ", sin " + Arrays.toString(sin.shape()));
        }
        if (posDiv < 1 || seqLen < 1 || posOffset < 0) {
            throw new IllegalArgumentException("cuda rope: posDiv " + posDiv + " and seqLen " + seqLen + " must be positive,"
                    + " posOffset " + posOffset + " not negative");
        }
        // the kernel reads table row (r / posDiv) % seqLen + posOffset without bounds checks
        if ((long) seqLen + posOffset > rows(cos)) {
            throw new IllegalArgumentException("cuda rope: positions 0.." + ((long) seqLen + posOffset - 1) + " (seqLen " + seqLen
                    + " + posOffset " + posOffset + ") need " + ((long) seqLen + posOffset) + " table rows, cos/sin have "
                    + rows(cos));
        }
        DeviceTensor y = f32(x.shape());
        elementLaunch("rope", "rope_f32", rows(x) * (d / 2), new KernelArgs().ptr(x).ptr(cos).ptr(sin).ptr(y).i64(rows(x)).i64(d)
                .i64(posDiv).i64(seqLen).i64(posOffset).i32(halfSplit ? 1 : 0).i32(inverse ? 1 : 0));
        return y;
    }

    public DeviceTensor swiglu(DeviceTensor gate, DeviceTensor up) {
        DeviceTensor y = f32(gate.shape());
        swigluInto(gate, up, y);
        return y;
    }

    public void swigluInto(DeviceTensor gate, DeviceTensor up, DeviceTensor y) {
        requireF32("swiglu", gate, up, y);
        if (gate.numel() != up.numel()) {
            throw new IllegalArgumentException("cuda swiglu: gate and up differ in size");
        }
        elementLaunch("swiglu", "swiglu_fwd_f32", gate.numel(), new KernelArgs().ptr(gate).ptr(up).ptr(y).i64(gate.numel()));
    }

    /** Returns {@code {dGate, dUp}}. */
    public DeviceTensor[] swigluBackward(DeviceTensor dy, DeviceTensor gate, DeviceTensor up) {
        requireF32("swigluBackward", dy, gate, up);
        DeviceTensor dg = f32(gate.shape()), du = f32(up.shape());
        elementLaunch("swiglu", "swiglu_bwd_f32", gate.numel(),
                new KernelArgs().ptr(dy).ptr(gate).ptr(up).ptr(dg).ptr(du).i64(gate.numel()));
        return new DeviceTensor[] {dg, du};
    }

    // ------------------------------------------------------------------ cross-entropy

    /** The kernels index targets[row] directly: I64, one per logits row, contiguous. */
    private static void requireTargets(DeviceTensor logits, DeviceTensor targets) {
        if (targets.dtype() != DType.I64 || targets.numel() != rows(logits)) {
            throw new IllegalArgumentException("cuda crossEntropy: targets must be I64 with one per logits row, got "
                    + targets.dtype() + " " + Arrays.toString(targets.shape()) + " for " + rows(logits) + " rows");
        }
        targets.requireContiguous("crossEntropy targets");
    }

    /** Per-row losses (0 where ignored) and the log-sum-exp the backward needs. */
    public record CrossEntropy(DeviceTensor loss, DeviceTensor lse) {}

    public CrossEntropy crossEntropy(DeviceTensor logits, DeviceTensor targets, long ignoreIndex) {
        requireF32("crossEntropy", logits);
        requireTargets(logits, targets);
        DeviceTensor loss = f32(dropLast(logits.shape()));
        DeviceTensor lse = f32(dropLast(logits.shape()));
        rowLaunch("cross_entropy", "cross_entropy_fwd_f32", rows(logits), lastDim(logits), 0, new KernelArgs().ptr(logits)
                .ptr(targets).ptr(loss).ptr(lse).i64(rows(logits)).i64(lastDim(logits)).i64(ignoreIndex));
        return new CrossEntropy(loss, lse);
    }

    /** {@code dlogits = (softmax - onehot) * scale}, zero on ignored rows. */
    public DeviceTensor crossEntropyBackward(DeviceTensor logits, DeviceTensor targets, DeviceTensor lse, long ignoreIndex,
            float scale) {
        requireF32("crossEntropyBackward", logits, lse);
        requireTargets(logits, targets);
        DeviceTensor d = f32(logits.shape());
        rowLaunch("cross_entropy", "cross_entropy_bwd_f32", rows(logits), lastDim(logits), 0, new KernelArgs().ptr(logits)
                .ptr(targets).ptr(lse).ptr(d).i64(rows(logits)).i64(lastDim(logits)).i64(ignoreIndex).f32(scale));
        return d;
    }

    // ------------------------------------------------------------------ AdamW, attention

    /** One AdamW step (step counts from 1), updating {@code p}, {@code m} and {@code v} in place. */
    public void adamwStep(DeviceTensor p, DeviceTensor g, DeviceTensor m, DeviceTensor v, long step, double lr, double beta1,
            double beta2, double eps, double weightDecay) {
        requireF32("adamw", p, g, m, v);
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        elementLaunch("adamw", "adamw_f32", p.numel(), new KernelArgs().ptr(p).ptr(g).ptr(m).ptr(v).i64(p.numel()).f32(lr)
                .f32(beta1).f32(beta2).f32(eps).f32(weightDecay).f32(bc1).f32(bc2));
    }

    /** Output and per-row log-sum-exp of scaled dot-product attention. */
    public record Attention(DeviceTensor out, DeviceTensor lse) {}

    /**
     * Which keys each query sees: causal (key j iff {@code j <= i + offset}) and, with {@code docs}
     * (a contiguous (B, ≥ Tk) I64 tensor of document ids, or null), only keys of the query's own
     * document; key j's id is column j, query i's column {@code Tk − Tq + i}.
     */
    public record AttentionMask(boolean causal, long offset, DeviceTensor docs) {}

    /** Gradients of attention: {@code dq} shaped like q, {@code dk} and {@code dv} like k and v. */
    public record AttentionGrads(DeviceTensor dq, DeviceTensor dk, DeviceTensor dv) {}

    private static void requireAttentionShapes(DeviceTensor q, DeviceTensor k, DeviceTensor v) {
        requireF32("attention", q, k, v);
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.size(3) != k.size(3) || !Arrays.equals(k.shape(), v.shape())
                || q.size(0) != k.size(0) || k.size(1) == 0 || q.size(1) % k.size(1) != 0 || q.size(3) < 1
                || q.size(3) > LaunchConfig.ATTENTION_MAX_D) {
            throw new IllegalArgumentException("cuda attention: q " + Arrays.toString(q.shape()) + ", k "
                    + Arrays.toString(k.shape()) + ", v " + Arrays.toString(v.shape()) + " (need (B,H,Tq,D), (B,Hkv,Tk,D), Hkv | H, 1 <= D <= "
                    + LaunchConfig.ATTENTION_MAX_D + ")");
        }
    }

    /** The kernels read document ids at columns 0 .. Tk − 1 of each batch row, queries' at Tk − Tq + i. */
    private static void requireDocs(DeviceTensor q, DeviceTensor k, AttentionMask mask) {
        DeviceTensor docs = mask.docs();
        if (docs == null) {
            return;
        }
        if (docs.dtype() != DType.I64 || docs.rank() != 2 || docs.size(0) != q.size(0) || docs.size(1) < k.size(2)
                || q.size(2) > k.size(2)) {
            throw new IllegalArgumentException("cuda attention: document ids must be I64 (B, >= Tk) with Tq <= Tk, got " + docs
                    + " for q " + Arrays.toString(q.shape()) + ", k " + Arrays.toString(k.shape()));
        }
        docs.requireContiguous("attention document ids");
    }

    private static long docCols(AttentionMask mask) {
        return mask.docs() == null ? 0 : mask.docs().size(1);
    }

    /**
     * Attention over {@code q (B, H, Tq, D)}, {@code k, v (B, Hkv, Tk, D)} with the tiled
     * online-softmax kernel (attention.cu): {@code Hkv} divides {@code H} (grouped-query attention),
     * D at most 128. Causal: query i sees key j iff {@code j <= i + Tk - Tq}; a query that sees no
     * key gets zeros and lse {@code -inf}. The lse is what {@link #attentionBackward} needs.
     */
    public Attention attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, boolean causal, float scale) {
        return attention(q, k, v, new AttentionMask(causal, (long) k.size(2) - q.size(2), null), scale);
    }

    /** {@link #attention(DeviceTensor, DeviceTensor, DeviceTensor, boolean, float)} with any causal offset and a document mask. */
    public Attention attention(DeviceTensor q, DeviceTensor k, DeviceTensor v, AttentionMask mask, float scale) {
        requireAttentionShapes(q, k, v);
        requireDocs(q, k, mask);
        int bsz = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3), hkv = k.size(1), tk = k.size(2);
        DeviceTensor o = f32(q.shape());
        DeviceTensor lse = f32(bsz, h, tq);
        if ((long) bsz * h * tq == 0) {
            return new Attention(o, lse);
        }
        int lanes = LaunchConfig.attentionLanes(d);
        b.launch("attention", "attention_fwd_f32", LaunchConfig.attention((long) bsz * h, tq, lanes), new KernelArgs().ptr(q)
                .ptr(k).ptr(v).ptr(o).ptr(lse).i64((long) bsz * h).i64(h).i64(hkv).i64(tq).i64(tk).i64(d).f32(scale)
                .i32(mask.causal() ? 1 : 0).i64(mask.offset()).ptr(mask.docs()).i64(docCols(mask)).i32(lanes));
        return new Attention(o, lse);
    }

    /**
     * Gradients of {@link #attention} given its result {@code fwd} and the output gradient
     * {@code dOut} (shaped like q): P is recomputed from q, k and the saved lse, tile by tile, in two
     * kernels (dq and the per-row delta = dOut . out first, then dk and dv per key tile), so no
     * (Tq, Tk) matrix exists and no atomics are used.
     */
    public AttentionGrads attentionBackward(DeviceTensor q, DeviceTensor k, DeviceTensor v, Attention fwd, DeviceTensor dOut,
            boolean causal, float scale) {
        return attentionBackward(q, k, v, fwd, dOut, new AttentionMask(causal, (long) k.size(2) - q.size(2), null), scale);
    }

    /** {@link #attentionBackward(DeviceTensor, DeviceTensor, DeviceTensor, Attention, DeviceTensor, boolean, float)} under {@code mask}. */
    public AttentionGrads attentionBackward(DeviceTensor q, DeviceTensor k, DeviceTensor v, Attention fwd, DeviceTensor dOut,
            AttentionMask mask, float scale) {
        requireAttentionShapes(q, k, v);
        requireDocs(q, k, mask);
        requireF32("attentionBackward", fwd.out(), fwd.lse(), dOut);
        if (!Arrays.equals(dOut.shape(), q.shape()) || !Arrays.equals(fwd.out().shape(), q.shape())
                || fwd.lse().numel() != (long) q.size(0) * q.size(1) * q.size(2)) {
            throw new IllegalArgumentException("cuda attentionBackward: out " + Arrays.toString(fwd.out().shape()) + ", dOut "
                    + Arrays.toString(dOut.shape()) + ", lse " + Arrays.toString(fwd.lse().shape()) + " must match q "
                    + Arrays.toString(q.shape()));
        }
        int bsz = q.size(0), h = q.size(1), tq = q.size(2), d = q.size(3), hkv = k.size(1), tk = k.size(2);
        DeviceTensor dq = f32(q.shape()), dk = f32(k.shape()), dv = f32(v.shape());
        int lanes = LaunchConfig.attentionLanes(d);
        if ((long) bsz * h * tq > 0) {
            try (DeviceTensor delta = f32(bsz, h, tq)) {
                b.launch("attention", "attention_bwd_dq_f32", LaunchConfig.attention((long) bsz * h, tq, lanes), new KernelArgs()
                        .ptr(q).ptr(k).ptr(v).ptr(fwd.out()).ptr(dOut).ptr(fwd.lse()).ptr(dq).ptr(delta).i64((long) bsz * h).i64(h)
                        .i64(hkv).i64(tq).i64(tk).i64(d).f32(scale).i32(mask.causal() ? 1 : 0).i64(mask.offset())
                        .ptr(mask.docs()).i64(docCols(mask)).i32(lanes));
                if ((long) bsz * hkv * tk > 0) {
                    b.launch("attention", "attention_bwd_dkdv_f32", LaunchConfig.attention((long) bsz * hkv, tk, lanes),
                            new KernelArgs().ptr(q).ptr(k).ptr(v).ptr(dOut).ptr(fwd.lse()).ptr(delta).ptr(dk).ptr(dv)
                                    .i64((long) bsz * h).i64(h).i64(hkv).i64(tq).i64(tk).i64(d).f32(scale).i32(mask.causal() ? 1 : 0)
                                    .i64(mask.offset()).ptr(mask.docs()).i64(docCols(mask)).i32(lanes));
                }
            }
        } else if ((long) bsz * hkv * tk > 0) {
            fill(dk, 0f); // no queries: nothing flows back to k and v
            fill(dv, 0f);
        }
        return new AttentionGrads(dq, dk, dv);
    }
}
