package dev.tessera.gpu;

import dev.tessera.tensor.BinaryOp;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.ReduceOp;
import dev.tessera.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The table entries of the fused ops whose kernels exist: RMSNorm, RoPE, softmax cross-entropy
 * (forward and backward each), the AdamW step, and the attention forward. Their settings (ε, the
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
        t.put("flash_attention FlashAttentionFunction", attention);
        t.put("causal_block_attention CausalBlockAttention", attention);
    }

    /** y = x·w/√(mean(x²) + ε); saves (x, w, 1/rms) for the backward kernel. */
    private static Object rmsNorm(CudaCall c) {
        double eps = (Double) FunctionSettings.field("rms_norm", c.attributes(), "eps");
        Tensor x = c.denseTensor(0);
        Tensor w = c.denseTensor(1);
        CudaOps.Norm n = c.ops.rmsNorm(c.view(x, DType.F32, "x"), c.view(w, DType.F32, "weight"), (float) eps);
        return new Tensor[] {c.result(n.y()), x, w, c.result(n.rstd())};
    }

    /** x (B, H, T, D) rotated by the (T, D/2) cos/sin rows, row r at position r mod T; backward rotates back. */
    private static Tensor rope(CudaCall c, boolean inverse) {
        String convention = ((Enum<?>) FunctionSettings.field("rope", c.attributes(), "convention")).name();
        DeviceTensor x = c.dense(0);
        if (x.rank() != 4) {
            throw c.unsupported("needs (B, H, T, D) input, got " + Arrays.toString(x.shape()));
        }
        int t = x.size(2);
        DeviceTensor cos = c.dense(1);
        if (cos.size(0) < t) {
            throw c.unsupported("the cos/sin tables have " + cos.size(0) + " rows for " + t + " positions");
        }
        return c.result(c.ops.rope(x, cos, c.dense(2), 1, t, 0, convention.equals("HALF_SPLIT"), inverse));
    }

    private static long[] targets(CudaCall c) {
        if (((Double) FunctionSettings.field("cross_entropy", c.attributes(), "eps")) != 0) {
            throw c.unsupported("label smoothing has no cuda kernel");
        }
        return (long[]) FunctionSettings.field("cross_entropy", c.attributes(), "targets");
    }

    private static long ignoreIndex(CudaCall c) {
        return (Long) FunctionSettings.field("cross_entropy", c.attributes(), "ignoreIndex");
    }

    private static long kept(long[] targets, long ignoreIndex) {
        return Arrays.stream(targets).filter(v -> v != ignoreIndex).count();
    }

    /** The mean loss over kept rows (0-d); saves (logits, log-sum-exp, targets on the device). */
    private static Object crossEntropy(CudaCall c) {
        long[] targets = targets(c);
        long ignore = ignoreIndex(c);
        Tensor logits = c.denseTensor(0);
        DeviceTensor x = c.view(logits, DType.F32, "logits");
        Tensor ids = c.toDevice(Tensor.of(targets, targets.length));
        CudaOps.CrossEntropy ce = c.ops.crossEntropy(x, c.view(ids, DType.I64, "targets"), ignore);
        DeviceTensor rowLoss = c.temporary(ce.loss());
        DeviceTensor loss = c.ops.reduceRows(ReduceOp.SUM, rowLoss.view((int) rowLoss.numel()));
        c.ops.binaryInto(BinaryOp.DIV, loss, c.upload(Tensor.scalar(kept(targets, ignore))), loss);
        return new Tensor[] {c.result(loss), logits, c.result(ce.lse()), ids};
    }

    /** (g, logits, lse, targets) → (softmax − onehot)·g/kept, zero on ignored rows. */
    private static Object crossEntropyBackward(CudaCall c) {
        long ignore = ignoreIndex(c);
        DeviceTensor d = c.ops.crossEntropyBackward(c.dense(1), c.view(c.tensor(3), DType.I64, "targets"), c.dense(2), ignore,
                1f / kept(targets(c), ignore));
        c.ops.binaryInto(BinaryOp.MUL, d, c.f32(0), d);
        return new Tensor[] {c.result(d)};
    }

    /**
     * One AdamW update of (p, g, exp_avg, exp_avg_sq) in place. The parameter's step count, its
     * group's learning rate and weight decay, and the betas and ε are the optimizer's
     * {@code stateDict()} entries; the parameter is found there by its exp_avg buffer (the same tensor).
     */
    @SuppressWarnings("unchecked")
    private static Object adamw(CudaCall c) {
        if (c.inputs() != 4) {
            throw c.unsupported("expects (param, grad, exp_avg, exp_avg_sq), got " + c.inputs() + " tensors");
        }
        Object opt = c.attributes();
        Map<String, Tensor> state = (Map<String, Tensor>) FunctionSettings.call("AdamW.step", opt, "stateDict");
        List<Integer> groupEnds = new ArrayList<>(); // parameters are numbered across the groups in order
        for (Object g : (List<?>) FunctionSettings.call("AdamW.step", opt, "groups")) {
            int before = groupEnds.isEmpty() ? 0 : groupEnds.getLast();
            groupEnds.add(before + ((List<?>) FunctionSettings.call("AdamW.step", g, "params")).size());
        }
        int index = -1;
        for (int i = 0; i < (groupEnds.isEmpty() ? 0 : groupEnds.getLast()) && index < 0; i++) {
            if (state.get("state." + i + ".exp_avg") == c.tensor(2) && state.get("state." + i + ".exp_avg_sq") == c.tensor(3)) {
                index = i;
            }
        }
        if (index < 0) {
            throw c.unsupported("the optimizer's state holds no exp_avg buffer passed to this step");
        }
        int group = 0;
        while (index >= groupEnds.get(group)) {
            group++;
        }
        long step = state.get("state." + index + ".step").toLongArray()[0];
        double lr = state.get("group." + group + ".lr").item();
        double wd = state.get("group." + group + ".weight_decay").item();
        DeviceTensor p = c.inPlace(0);
        DeviceTensor m = c.inPlace(2);
        DeviceTensor v = c.inPlace(3);
        c.ops.adamwStep(p, c.dense(1), m, v, step, lr, state.get("hparam.beta1").item(), state.get("hparam.beta2").item(),
                state.get("hparam.eps").item(), wd);
        c.wrote(0);
        c.wrote(2);
        c.wrote(3);
        return null;
    }

    /**
     * softmax(α·q·kᵀ + causal mask)·v for q (B, H, T, D), k, v (B, Hkv, S, D): the forward only
     * (nothing is saved: there is no attention backward kernel), and without a document mask.
     */
    private static Object attention(CudaCall c) {
        String op = "attention";
        double alpha = (Double) FunctionSettings.field(op, c.attributes(), "alpha");
        Object mask = FunctionSettings.field(op, c.attributes(), "mask");
        if (FunctionSettings.call(op, mask, "documentIds") != null) {
            throw c.unsupported("the document mask has no cuda kernel");
        }
        boolean causal = (Boolean) FunctionSettings.call(op, mask, "causal");
        CudaOps.Attention a = c.ops.attention(c.dense(0), c.dense(1), c.dense(2), causal, (float) alpha);
        c.temporary(a.lse());
        return new Tensor[] {c.result(a.out())};
    }
}
