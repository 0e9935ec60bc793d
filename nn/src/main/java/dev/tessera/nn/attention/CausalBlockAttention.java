package dev.tessera.nn.attention;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * Causal softmax attention that never computes the blocks above the diagonal. Queries are taken in
 * row blocks of R; block r (queries r₀ … r₁−1) attends to keys 0 … r₁−1 only, since every later key
 * is masked for all of its rows:
 * <pre>
 *   P_r = softmax(α·Q_r·K_{&lt;r₁}ᵀ, causal (and document) mask)      O_r = P_r·V_{&lt;r₁}
 *   backward: dV_{&lt;r₁} += P_rᵀ·dO_r    dS_r = α·P_r ⊙ (dP_r − Σ dP_r ⊙ P_r), dP_r = dO_r·V_{&lt;r₁}ᵀ
 *             dQ_r = dS_r·K_{&lt;r₁}      dK_{&lt;r₁} += dS_rᵀ·Q_r
 * </pre>
 * With T = 2R this does 3/4 of the full T×T score and mixing work, with T = 4R 10/16; smaller
 * blocks make the batched products too small to pay on these machines (R = 128 by default). The
 * result is the same attention as {@link SoftmaxAttention}'s fused path (tested equal, values and
 * gradients, in {@code CausalBlockAttentionTest}); only probabilities of allowed keys are stored.
 */
final class CausalBlockAttention extends CustomFunction {
    private final double alpha;
    private final AttentionMask mask;
    private final int block;
    private Tensor[] probabilities;

    /** @param mask causal, query offset 0, optionally with document ids */
    CausalBlockAttention(double alpha, AttentionMask mask, int block) {
        this.alpha = alpha;
        this.mask = mask;
        this.block = block;
    }

    @Override
    protected String name() {
        return "causal_block_attention";
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        Tensor q = in[0];
        Tensor k = in[1];
        Tensor v = in[2];
        int b = q.size(0);
        int t = q.size(2);
        int blocks = (t + block - 1) / block;
        probabilities = new Tensor[blocks];
        // the output in q's layout: for heads split from a (B, T, H, D) projection it is (B, T, H, D)
        // in memory, so merging the heads back (transpose, reshape) is a view, not a copy
        Tensor out = DenseRows.zerosLike(q, DType.promote(DType.promote(q.dtype(), k.dtype()), v.dtype()), b, q.size(1), t, v.size(3));
        for (int r = 0; r < blocks; r++) {
            int r0 = r * block;
            int r1 = Math.min(t, r0 + block);
            Tensor allowed = new AttentionMask(true, mask.documentIds(), r0).allowedMatrix(b, r1 - r0, r1);
            Tensor p = q.narrow(2, r0, r1 - r0).matmul(k.narrow(2, 0, r1).mT()).maskedSoftmax(allowed, alpha);
            probabilities[r] = p;
            p.matmulInto(v.narrow(2, 0, r1), out.narrow(2, r0, r1 - r0));
        }
        ctx.save(q, k, v);
        return out;
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor g) {
        Tensor q = ctx.saved(0);
        Tensor k = ctx.saved(1);
        Tensor v = ctx.saved(2);
        int t = q.size(2);
        // each gradient in its input's layout: heads that are transposed views of a (B, T, H, D)
        // projection get gradients whose transpose back is contiguous, so the projection's backward
        // reshapes them as a view instead of copying
        Tensor dq = DenseRows.zerosLike(q, q.dtype());
        Tensor dk = DenseRows.zerosLike(k, k.dtype());
        Tensor dv = DenseRows.zerosLike(v, v.dtype());
        for (int r = 0; r < probabilities.length; r++) {
            int r0 = r * block;
            int r1 = Math.min(t, r0 + block);
            Tensor p = probabilities[r];
            Tensor gr = g.narrow(2, r0, r1 - r0);
            p.mT().matmulAddInto(gr, dv.narrow(2, 0, r1));
            Tensor ds = p.softmaxBackward(gr.matmul(v.narrow(2, 0, r1).mT()), alpha);
            ds.matmulInto(k.narrow(2, 0, r1), dq.narrow(2, r0, r1 - r0));
            ds.mT().matmulAddInto(q.narrow(2, r0, r1 - r0), dk.narrow(2, 0, r1));
        }
        return new Tensor[] {dq, dk, dv};
    }
}
