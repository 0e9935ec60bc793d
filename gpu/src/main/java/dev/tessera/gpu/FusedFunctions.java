package dev.tessera.gpu;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The table entries of the fused ops whose kernels exist: RMSNorm, RoPE, softmax cross-entropy,
 * attention (flash and causal-block, document mask included) and the masked softmax (forward and
 * backward each), and the AdamW step. Their settings (ε, the
 * RoPE convention, targets and ignore index, the optimizer's learning rate and step) live in
 * {@code nn} objects that this module cannot import, and are read by {@link FunctionSettings}.
 */
final class FusedFunctions {
    private FusedFunctions() {}

    static void register(Map<String, CudaKernels.Entry> t) {
        t.put("rms_norm RmsNormFunction", new CudaKernels.Entry(List.of("rmsNorm", "contiguous"), FusedFunctions::rmsNorm));
        t.put("rms_norm.backward RmsNormFunction", new CudaKernels.Entry(List.of("rmsNormBackward", "contiguous"), c -> { // (g, x, w, 1/rms)
            CudaOps.NormGrads g = c.ops.rmsNormBackward(c.dense(0), c.dense(1), c.dense(2), c.dense(3));
            return CudaKernels.results(c, g.dx(), g.dw());
        }));
        t.put("rope RopeFunction", new CudaKernels.Entry(List.of("rope", "contiguous"),
                c -> new Tensor[] {rope(c, false), c.tensor(1), c.tensor(2)}));
        t.put("rope.backward RopeFunction", new CudaKernels.Entry(List.of("rope", "contiguous"), // (g, cos, sin): the inverse rotation
                c -> new Tensor[] {rope(c, true), null, null}));
        t.put("cross_entropy CrossEntropyFunction", new CudaKernels.Entry(List.of("crossEntropy", "reduceRows", "binaryInto", "contiguous"),
                FusedFunctions::crossEntropy));
        t.put("cross_entropy.backward CrossEntropyFunction", new CudaKernels.Entry(List.of("crossEntropyBackward", "binaryInto"),
                FusedFunctions::crossEntropyBackward));
        t.put("AdamW.step AdamW", new CudaKernels.Entry(List.of("adamwStep", "contiguous"), FusedFunctions::adamw));
        CudaKernels.Entry attention = new CudaKernels.Entry(List.of("attention", "contiguous"), FusedFunctions::attention);
        CudaKernels.Entry attentionBackward = new CudaKernels.Entry(List.of("attentionBackward", "contiguous"),
                FusedFunctions::attentionBackward);
        t.put("flash_attention FlashAttentionFunction", attention);
        t.put("flash_attention.backward FlashAttentionFunction", attentionBackward);
        t.put("causal_block_attention CausalBlockAttention", attention);
        t.put("causal_block_attention.backward CausalBlockAttention", attentionBackward);
        t.put("masked_softmax MaskedSoftmaxFunction", new CudaKernels.Entry(List.of("maskedSoftmax", "contiguous"), c -> {
            FunctionSettings.MaskedSoftmax s = FunctionSettings.maskedSoftmax(c.attributes());
            Tensor p = c.result(c.ops.maskedSoftmax(c.dense(0), c.view(s.allowed(), DType.BOOL, "allowed"), (float) s.scale()));
            return new Tensor[] {p, p}; // saves p
        }));
        t.put("masked_softmax.backward MaskedSoftmaxFunction", new CudaKernels.Entry(List.of("softmaxBackward", "contiguous"), c -> {
            // (g, p)
            float scale = (float) FunctionSettings.maskedSoftmax(c.attributes()).scale();
            return CudaKernels.results(c, c.ops.softmaxBackward(c.dense(1), c.dense(0), scale));
        }));
    }

    /** y = x·w/√(mean(x²) + ε); saves (x, w, 1/rms) for the backward kernel. */
    private static Object rmsNorm(CudaCall c) {
        double eps = FunctionSettings.rmsNormEps(c.attributes());
        Tensor x = c.denseTensor(0);
        Tensor w = c.denseTensor(1);
        CudaOps.Norm n = c.ops.rmsNorm(c.view(x, DType.F32, "x"), c.view(w, DType.F32, "weight"), (float) eps);
        return new Tensor[] {c.result(n.y()), x, w, c.result(n.rstd())};
    }

    /** x (B, H, T, D) rotated by the (T, D/2) cos/sin rows, row r at position r mod T; backward rotates back. */
    private static Tensor rope(CudaCall c, boolean inverse) {
        boolean halfSplit = FunctionSettings.ropeHalfSplit(c.attributes());
        DeviceTensor x = c.dense(0);
        if (x.rank() != 4) {
            throw c.unsupported("needs (B, H, T, D) input, got " + Arrays.toString(x.shape()));
        }
        int t = x.size(2);
        DeviceTensor cos = c.dense(1);
        if (cos.size(0) < t) {
            throw c.unsupported("the cos/sin tables have " + cos.size(0) + " rows for " + t + " positions");
        }
        return c.result(c.ops.rope(x, cos, c.dense(2), 1, t, 0, halfSplit, inverse));
    }

    private static FunctionSettings.CrossEntropy crossEntropySettings(CudaCall c) {
        FunctionSettings.CrossEntropy s = FunctionSettings.crossEntropy(c.attributes());
        if (s.smoothing() != 0) {
            throw c.unsupported("label smoothing has no cuda kernel");
        }
        return s;
    }

    /** The mean loss over kept rows (0-d); saves (logits, log-sum-exp, targets on the device). */
    private static Object crossEntropy(CudaCall c) {
        FunctionSettings.CrossEntropy s = crossEntropySettings(c);
        Tensor logits = c.denseTensor(0);
        DeviceTensor x = c.view(logits, DType.F32, "logits");
        Tensor ids = c.toDevice(Tensor.of(s.targets(), s.targets().length));
        CudaOps.CrossEntropy ce = c.ops.crossEntropy(x, c.view(ids, DType.I64, "targets"), s.ignoreIndex());
        DeviceTensor rowLoss = c.temporary(ce.loss());
        DeviceTensor loss = c.ops.reduceRows(ReduceOp.SUM, rowLoss.view((int) rowLoss.numel()));
        c.ops.binaryInto(BinaryOp.DIV, loss, c.upload(Tensor.scalar(s.kept())), loss);
        return new Tensor[] {c.result(loss), logits, c.result(ce.lse()), ids};
    }

    /** (g, logits, lse, targets) → (softmax − onehot)·g/kept, zero on ignored rows. */
    private static Object crossEntropyBackward(CudaCall c) {
        FunctionSettings.CrossEntropy s = crossEntropySettings(c);
        DeviceTensor d = c.ops.crossEntropyBackward(c.dense(1), c.view(c.tensor(3), DType.I64, "targets"), c.dense(2), s.ignoreIndex(),
                1f / s.kept());
        c.ops.binaryInto(BinaryOp.MUL, d, c.f32(0), d);
        return new Tensor[] {c.result(d)};
    }

    /** One AdamW update of (p, g, exp_avg, exp_avg_sq) in place, with the settings {@link FunctionSettings#adamw} finds. */
    private static Object adamw(CudaCall c) {
        if (c.inputs() != 4) {
            throw c.unsupported("expects (param, grad, exp_avg, exp_avg_sq), got " + c.inputs() + " tensors");
        }
        FunctionSettings.AdamW s = FunctionSettings.adamw(c.attributes(), c.tensor(2), c.tensor(3));
        DeviceTensor p = c.inPlace(0);
        DeviceTensor m = c.inPlace(2);
        DeviceTensor v = c.inPlace(3);
        c.ops.adamwStep(p, c.dense(1), m, v, s.step(), s.lr(), s.beta1(), s.beta2(), s.eps(), s.weightDecay());
        c.wrote(0);
        c.wrote(2);
        c.wrote(3);
        return null;
    }

    /**
     * softmax(α·q·kᵀ + mask)·v for q (B, H, T, D), k, v (B, Hkv, S, D), the mask causal from the
     * function's query offset and/or by document ids. Both attention functions compute this (the
     * causal-block one in row blocks on the host); here each saves (q, k, v, out, lse) for
     * {@link #attentionBackward}, the log-sum-exp instead of the host's probabilities.
     */
    private static Object attention(CudaCall c) {
        CudaOps.AttentionMask mask = attentionMask(c);
        Tensor q = c.denseTensor(0);
        Tensor k = c.denseTensor(1);
        Tensor v = c.denseTensor(2);
        CudaOps.Attention a = c.ops.attention(c.view(q, DType.F32, "q"), c.view(k, DType.F32, "k"), c.view(v, DType.F32, "v"), mask,
                (float) FunctionSettings.attention(c.attributes()).alpha());
        Tensor out = c.result(a.out());
        return new Tensor[] {out, q, k, v, out, c.result(a.lse())};
    }

    /** (g, q, k, v, out, lse) → (dq, dk, dv), P recomputed from the saved lse. */
    private static Object attentionBackward(CudaCall c) {
        if (c.inputs() != 6) {
            throw c.unsupported("expects (g, q, k, v, out, lse) from the cuda forward, got " + c.inputs() + " tensors");
        }
        CudaOps.AttentionMask mask = attentionMask(c);
        CudaOps.Attention saved = new CudaOps.Attention(c.dense(4), c.dense(5));
        CudaOps.AttentionGrads g = c.ops.attentionBackward(c.dense(1), c.dense(2), c.dense(3), saved, c.dense(0), mask,
                (float) FunctionSettings.attention(c.attributes()).alpha());
        return CudaKernels.results(c, g.dq(), g.dk(), g.dv());
    }

    /** The kernels' mask: causal from the query offset, document ids as a contiguous I64 device tensor (uploaded if need be). */
    private static CudaOps.AttentionMask attentionMask(CudaCall c) {
        FunctionSettings.Attention s = FunctionSettings.attention(c.attributes());
        Tensor ids = s.documentIds();
        DeviceTensor docs = null;
        if (ids != null) {
            boolean usable = ids.device() == dev.tessera.tensor.Device.CUDA && ids.dtype() == DType.I64 && ids.isContiguous();
            docs = usable ? c.view(ids, DType.I64, "document ids") : c.upload(Tensor.of(ids.toLongArray(), ids.shape()));
        }
        return new CudaOps.AttentionMask(s.causal(), s.causal() ? s.queryOffset() : 0, docs);
    }
}
