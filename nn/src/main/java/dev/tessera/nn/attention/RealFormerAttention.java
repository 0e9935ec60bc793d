package dev.tessera.nn.attention;

import dev.tessera.autograd.Variable;
import dev.tessera.nn.Module;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * RealFormer residual attention (B16), after He, Ravula, Kanagal and Ainslie, "RealFormer:
 * Transformer Likes Residual Attention", Findings of ACL 2021: each layer's pre-softmax attention
 * scores are added to the next layer's, head by head, a residual path for the attention maps
 * themselves (the paper finds it stabilises training and gives sparser, better-aligned maps):
 * <pre>
 *   S_l   = Q_l·K_lᵀ/√D + S_{l−1}          (S_0 = 0; S_{l−1} is the layer below's scores, same head)
 *   out_l = softmax(S_l + mask)·V_l         (B, H, T, Dv)
 * </pre>
 * so S_l = Σ_{m ≤ l} Q_m·K_mᵀ/√D. The residual carries the scores before the mask and each layer
 * applies the mask itself: every layer of a stack uses the same mask, so the outputs are those of
 * carrying masked scores, without −∞ entries in the carried tensor. Gradients flow through the
 * residual, as in the paper.
 *
 * <p>The seam: a kernel only sees its own layer's q, k and v, so the layers of one stack are linked
 * once after the model is built ({@link #link(Module)} from the models' shared init,
 * {@link #link(List)} from nn's Decoder): each kernel then knows the one below it, and in every forward
 * the layer below hands its S (B, H, T, S) to the one above, which takes it (the hand-off is
 * cleared on reading, and the top layer keeps none, so no graph outlives its forward). The stack
 * runs bottom-up within one forward, so layer l always reads the scores layer l − 1 has just made
 * for the same queries and keys. With a KV cache, each layer's scores for the new queries against
 * all cached keys are exactly the rows of the full sequence's S_l, so decoding needs no extra cache
 * and equals the full forward. A kernel that was never linked refuses to run (rather than silently
 * acting as plain softmax attention), and a layer shared by several positions of a stack
 * (ALBERT-style) is refused at linking. Attention dropout is not applied (as for the other non-default
 * kernels).
 */
public final class RealFormerAttention extends Module implements AttentionKernel {
    private boolean linked;
    private RealFormerAttention below;
    private boolean hasAbove;
    private Variable handoff;

    @Override
    public Variable attend(Variable q, Variable k, Variable v, AttentionMask mask) {
        KernelSupport.checkShapes("RealFormerAttention", q, k, v, mask);
        if (!linked) {
            throw new IllegalStateException("RealFormerAttention: not linked into a layer stack "
                    + "(call RealFormerAttention.link(model) once built)");
        }
        Variable previous = null;
        if (below != null) {
            previous = below.handoff;
            below.handoff = null;
            if (previous == null) {
                throw new IllegalStateException("RealFormerAttention: the layer below left no scores "
                        + "(the stack must run bottom-up in one forward)");
            }
        }
        Variable s = scores(q, k, previous); // (B, H, T, S)
        handoff = hasAbove ? s : null;
        return attendScores(s, v, mask);
    }

    /** S = q·kᵀ/√D + previous (B, H, T, S); previous may be null (the first layer). */
    public static Variable scores(Variable q, Variable k, Variable previous) {
        Variable s = LogitScale.apply(q.matmul(k.mT()), LogitScale.inverseSqrt(q.size(3))); // (B, H, T, S)
        if (previous == null) {
            return s;
        }
        if (!Arrays.equals(previous.shape(), s.shape())) {
            throw new IllegalArgumentException("RealFormerAttention: scores from the layer below are " + Arrays.toString(previous.shape())
                    + ", this layer's are " + Arrays.toString(s.shape()));
        }
        return s.add(previous);
    }

    /** softmax(S + mask)·v for residual scores S (B, H, T, S) and v (B, H, S, Dv). */
    public static Variable attendScores(Variable scores, Variable v, AttentionMask mask) {
        return KernelSupport.maskScores(scores, mask).softmax(-1).matmul(v); // (B, H, T, Dv)
    }

    /**
     * Links every RealFormer kernel under {@code root}, in module order (the order layers are
     * registered, i.e. the order they run), into one stack; returns how many it found. Calling it
     * again relinks. A model with no RealFormer kernel is left as it is.
     */
    public static int link(Module root) {
        List<RealFormerAttention> stack = new ArrayList<>();
        root.apply(m -> {
            if (m instanceof RealFormerAttention r) {
                stack.add(r);
            }
        });
        link(stack);
        return stack.size();
    }

    /** Links the kernels bottom-up in the given order (the first has no layer below). */
    public static void link(List<RealFormerAttention> stack) {
        Set<RealFormerAttention> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (RealFormerAttention r : stack) {
            if (!seen.add(r)) {
                throw new IllegalArgumentException("RealFormerAttention: one kernel sits at two places in the stack "
                        + "(shared layers are not supported)");
            }
        }
        for (int l = 0; l < stack.size(); l++) {
            RealFormerAttention r = stack.get(l);
            r.linked = true;
            r.below = l == 0 ? null : stack.get(l - 1);
            r.hasAbove = l + 1 < stack.size();
            r.handoff = null;
        }
    }
}
