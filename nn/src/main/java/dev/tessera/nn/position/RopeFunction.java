package dev.tessera.nn.position;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Tensor;

/**
 * RoPE as one fused op: each pair (x_a, x_b) of a head is rotated by the angle of its position,
 * y_a = x_a·cos θ − x_b·sin θ, y_b = x_b·cos θ + x_a·sin θ. The rotation is orthogonal, so the
 * backward is the same loop with θ negated: dx = R(−θ)·g. Pairs are (2i, 2i+1) for the interleaved
 * convention and (i, i + d/2) for half-split. Tested equal (values and gradients) to the composite
 * of primitives in {@link RotaryEmbedding#applyComposite}.
 */
final class RopeFunction extends CustomFunction {
    private final RotaryEmbedding.Convention convention;

    /** Call with x (B, H, T, D) and the (T, D/2) cos and sin table rows for the positions of x's T dim (constants). */
    RopeFunction(RotaryEmbedding.Convention convention) {
        this.convention = convention;
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        ctx.save(inputs[1], inputs[2]);
        return rotate(inputs[0], inputs[1], inputs[2], 1);
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        return new Tensor[] {rotate(grad, ctx.saved(0), ctx.saved(1), -1), null, null};
    }

    @Override
    protected String name() {
        return "rope";
    }

    /**
     * Rotates every (B, H, T, D) row by ±θ, in F64 for F64 input and F32 otherwise. The input is read
     * through its strides (queries and keys arrive as transposed views of their projections) and the
     * result is written in the input's layout, so neither direction copies the heads to make them
     * contiguous and the transpose back to (B, T, H, D) after the backward stays a view.
     */
    private Tensor rotate(Tensor x, Tensor cos, Tensor sin, int direction) {
        DType compute = DenseRows.computeType(x);
        Tensor in = DenseRows.strided(x, compute);
        int[] shape = in.shape();
        int h = shape[1];
        int t = shape[2];
        int d = shape[3];
        int half = d / 2;
        int rows = in.numel() / Math.max(d, 1);
        Tensor c = DenseRows.dense(cos, compute); // (T, D/2), a view of the table when it is already dense
        Tensor s = DenseRows.dense(sin, compute);
        Tensor out = DenseRows.zerosLike(in, compute);
        int[] is = {in.stride(0), in.stride(1), in.stride(2)};
        int[] os = {out.stride(0), out.stride(1), out.stride(2)};
        boolean interleaved = convention == RotaryEmbedding.Convention.INTERLEAVED;
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        if (compute == DType.F32) {
            float[] a = in.storage().floats();
            float[] y = out.storage().floats();
            float[] ca = c.storage().floats();
            float[] sa = s.storage().floats();
            dev.tessera.tensor.Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                for (int r = from; r < to; r++) {
                    int pos = r % t;
                    int bh = r / t;
                    int io = in.offset() + bh / h * is[0] + bh % h * is[1] + pos * is[2];
                    int o = out.offset() + bh / h * os[0] + bh % h * os[1] + pos * os[2];
                    int co = c.offset() + pos * half;
                    int so = s.offset() + pos * half;
                    for (int i = 0; i < half; i++) {
                        int ia = interleaved ? 2 * i : i;
                        int ib = interleaved ? 2 * i + 1 : i + half;
                        float ci = ca[co + i];
                        float si = direction * sa[so + i];
                        float xa = a[io + ia];
                        float xb = a[io + ib];
                        y[o + ia] = xa * ci - xb * si;
                        y[o + ib] = xb * ci + xa * si;
                    }
                }
            });
        } else {
            double[] a = in.storage().doubles();
            double[] y = out.storage().doubles();
            double[] ca = c.storage().doubles();
            double[] sa = s.storage().doubles();
            for (int r = 0; r < rows; r++) {
                int pos = r % t;
                int bh = r / t;
                int io = in.offset() + bh / h * is[0] + bh % h * is[1] + pos * is[2];
                int o = out.offset() + bh / h * os[0] + bh % h * os[1] + pos * os[2];
                for (int i = 0; i < half; i++) {
                    int ia = interleaved ? 2 * i : i;
                    int ib = interleaved ? 2 * i + 1 : i + half;
                    double ci = ca[c.offset() + pos * half + i];
                    double si = direction * sa[s.offset() + pos * half + i];
                    double xa = a[io + ia];
                    double xb = a[io + ib];
                    y[o + ia] = xa * ci - xb * si;
                    y[o + ib] = xb * ci + xa * si;
                }
            }
        }
        return out.to(x.dtype());
    }
}
