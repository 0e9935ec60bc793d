package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Talking-heads attention (B15), after Shazeer, Lan, Cheng, Ding and Hou, "Talking-Heads
 * Attention", arXiv 2003.02436, 2020: in multi-head attention each head's softmax sees only its own
 * logits; here the heads exchange information twice, through learned H × H maps across the head
 * axis, once on the logits just before the softmax and once on the weights just after it:
 * <pre>
 *   J_h(t, j)  = q_h,t · k_h,j / √D                     (B, H, T, S), each head's own logits
 *   L_h'       = Σ_h P_l[h', h] · J_h                    proj_l: logits mixed across heads
 *   W_h'       = softmax_j(L_h' + mask)
 *   U_h''      = Σ_h' P_w[h'', h'] · W_h'                proj_w: weights mixed across heads
 *   out_h''    = U_h'' · v_h''
 * </pre>
 *
 * The paper allows different head counts for queries/keys (h_k), logits (h), weights (h) and
 * values (h_v); here, as in timm's {@code models.cait:TalkingHeadAttn}, all are the model's H, and
 * the matrices are stored as that module's {@code proj_l.weight}/{@code proj_w.weight} (out, in),
 * without the {@code .weight} suffix so that the models' N(0, σ²) matrix init does not reach them.
 * Differences from timm, following the paper: no biases on the two maps (timm's proj_l bias is a
 * per-head constant on every logit of a row, which the softmax removes; its proj_w bias adds
 * b_h''·Σ_j v_j, which the paper has not), and the maps start at the identity, so training begins
 * as plain multi-head attention (timm keeps torch's Linear init). The mask is applied after the
 * logit mixing, so masked positions never enter a softmax; their weights are then 0 in every head,
 * and mixing weights keeps them 0: the kernel stays causal under a causal mask, and because both
 * maps act on each (t, j) pair separately, decoding with a KV cache gives the full sequence's rows.
 * The mixed weights need not sum to 1 (Σ_j U_h'' = Σ_h' P_w[h'', h']).
 */
public final class TalkingHeadsAttention extends Module implements AttentionKernel {
    private final int heads;
    private final Variable projL;
    private final Variable projW;

    /** @param heads H; {@code proj_l} and {@code proj_w} (H, H) start at the identity */
    public TalkingHeadsAttention(int heads) {
        if (heads <= 0) {
            throw new IllegalArgumentException("TalkingHeadsAttention: heads must be positive, got " + heads);
        }
        this.heads = heads;
        this.projL = parameter("proj_l", Tensor.eye(heads, DType.F32));
        this.projW = parameter("proj_w", Tensor.eye(heads, DType.F32));
    }

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("TalkingHeadsAttention", q, k, v, mask, heads, 0);
        return attend(q, k, v, projL.to(q.dtype()), projW.to(q.dtype()), mask);
    }

    /** The kernel as a function of the two (H, H) maps in the inputs' dtype, so their gradients can be checked like any input's. */
    public static Variable attend(Variable q, Variable k, Variable v, Variable projL, Variable projW, AttentionMask mask) {
        KernelSupport.checkShapes("TalkingHeadsAttention", q, k, v, mask);
        int h = q.size(1);
        for (Variable p : new Variable[] {projL, projW}) {
            if (p.rank() != 2 || p.size(0) != h || p.size(1) != h) {
                throw new IllegalArgumentException("TalkingHeadsAttention: head maps must be (" + h + ", " + h + "), got "
                        + java.util.Arrays.toString(p.shape()));
            }
        }
        Variable logits = LogitScale.apply(q.matmul(k.mT()), LogitScale.inverseSqrt(q.size(3))); // (B, H, T, S)
        Variable weights = KernelSupport.maskScores(mixHeads(logits, projL), mask).softmax(-1); // (B, H, T, S)
        return mixHeads(weights, projW).matmul(v); // (B, H, T, Dv)
    }

    /** y_h' = Σ_h p[h', h] x_h for x (B, H, T, S): one (H, H) · (H, T·S) product per batch row. */
    static Variable mixHeads(Variable x, Variable p) {
        int b = x.size(0);
        int h = x.size(1);
        int t = x.size(2);
        int s = x.size(3);
        return p.matmul(x.reshape(b, h, t * s)).reshape(b, h, t, s); // (B, H, T, S)
    }
}
