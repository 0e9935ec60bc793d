package dev.tessera.autograd;

import dev.tessera.tensor.Tensor;

/** matmul and its backward: dA = G·Bᵀ, dB = Aᵀ·G, using transposed views (no copies), then reduced over broadcast batch dims. */
final class LinalgFunctions {
    private LinalgFunctions() {}

    /** The product; under {@link Autocast} a matmul-class op (the rule is in Autocast's javadoc). */
    static Variable matmul(Variable a, Variable b) {
        return Autocast.apply(in -> product(in[0], in[1]), a, b);
    }

    private static Variable product(Variable a, Variable b) {
        Tensor x = a.data();
        Tensor y = b.data();
        Tensor out = x.matmul(y);
        boolean needA = a.requiresGrad();
        boolean needB = b.requiresGrad();
        return Variable.record("matmul", out, g -> {
            // promote vectors to matrices as the forward did, so one formula covers every form; the
            // vector operand's dim goes back in the order that also works for a 0-d g (vector · vector)
            Tensor x2 = x.rank() == 1 ? x.unsqueeze(0) : x;
            Tensor y2 = y.rank() == 1 ? y.unsqueeze(1) : y;
            Tensor g2 = g;
            if (y.rank() == 1) {
                g2 = g2.unsqueeze(-1);
            }
            if (x.rank() == 1) {
                g2 = g2.unsqueeze(-2);
            }
            Tensor da = needA ? g2.matmul(y2.mT()) : null;
            Tensor db = needB ? (y2.rank() == 2 && x2.rank() > 2 ? foldedWeightGrad(x2, g2, y2) : productInLayoutOf(y2, x2, g2)) : null;
            if (da != null) {
                da = Derivatives.sumToShape(da, x2.shape(), x.dtype());
                da = x.rank() == 1 ? da.squeeze(0) : da;
            }
            if (db != null) {
                db = Derivatives.sumToShape(db, y2.shape(), y.dtype());
                db = y.rank() == 1 ? db.squeeze(-1) : db;
            }
            return new Tensor[] {da, db};
        }, new Tensor[] {x, y}, a, b);
    }

    /**
     * dB for a matrix B shared by every batch of A (a Linear layer on (B, T, C) input): the sum over
     * batches of Aᵢᵀ·Gᵢ is one GEMM over the flattened rows, (B·T, k)ᵀ · (B·T, n), instead of B
     * products of (k, n) each and a reduction over them.
     */
    private static Tensor foldedWeightGrad(Tensor x2, Tensor g2, Tensor y2) {
        Tensor rows = x2.reshape(-1, x2.size(-1));
        Tensor grads = g2.reshape(-1, g2.size(-1));
        return productInLayoutOf(y2, rows, grads);
    }

    /**
     * Aᵀ·G laid out as {@code like}: when {@code like} is the transposed view of a contiguous matrix (a
     * Linear weight W used as Wᵀ), computed as (Gᵀ·A)ᵀ, so the gradient reaching W through the transpose
     * is contiguous and accumulates without a transposing copy (PyTorch gives gradients their input's
     * layout too). Each element is the same multiply-add chain either way (the product's operands swap
     * inside each fused multiply-add), so the same bits.
     */
    private static Tensor productInLayoutOf(Tensor like, Tensor a, Tensor g) {
        boolean transposedMatrix = like.rank() == 2 && like.size(0) > 1 && like.size(1) > 1 && like.stride(0) == 1
                && like.stride(1) == like.size(0);
        return transposedMatrix ? g.mT().matmul(a).mT() : a.mT().matmul(g);
    }
}
