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
    private final Tensor cos;
    private final Tensor sin;
    private final RotaryEmbedding.Convention convention;

    /** @param cos (T, D/2) table rows for the positions of the input's T dim; same for sin */
    RopeFunction(Tensor cos, Tensor sin, RotaryEmbedding.Convention convention) {
        this.cos = cos;
        this.sin = sin;
        this.convention = convention;
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... inputs) {
        return rotate(inputs[0], 1);
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor grad) {
        return new Tensor[] {rotate(grad, -1)};
    }

    @Override
    protected String name() {
        return "rope";
    }

    /** Rotates every (B, H, T, D) row by ±θ, in F64 for F64 input and F32 otherwise. */
    private Tensor rotate(Tensor x, int direction) {
        DType compute = x.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor in = DenseRows.dense(x, compute);
        int[] shape = in.shape();
        int t = shape[2];
        int d = shape[3];
        int half = d / 2;
        int rows = in.numel() / d;
        double[] c = cos.to(DType.F64).contiguous().toDoubleArray();
        double[] s = sin.to(DType.F64).contiguous().toDoubleArray();
        Tensor out = Tensor.zeros(compute, shape);
        boolean interleaved = convention == RotaryEmbedding.Convention.INTERLEAVED;
        int grain = Math.max(1, 16384 / Math.max(d, 1));
        if (compute == DType.F32) {
            float[] a = in.storage().floats();
            int base = in.offset();
            float[] y = out.storage().floats();
            dev.tessera.tensor.Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                for (int r = from; r < to; r++) {
                    int pos = r % t;
                    int o = r * d;
                    for (int i = 0; i < half; i++) {
                        int ia = interleaved ? 2 * i : i;
                        int ib = interleaved ? 2 * i + 1 : i + half;
                        float ci = (float) c[pos * half + i];
                        float si = direction * (float) s[pos * half + i];
                        float xa = a[base + o + ia];
                        float xb = a[base + o + ib];
                        y[o + ia] = xa * ci - xb * si;
                        y[o + ib] = xb * ci + xa * si;
                    }
                }
            });
        } else {
            double[] a = in.storage().doubles();
            int base = in.offset();
            double[] y = out.storage().doubles();
            for (int r = 0; r < rows; r++) {
                int pos = r % t;
                int o = r * d;
                for (int i = 0; i < half; i++) {
                    int ia = interleaved ? 2 * i : i;
                    int ib = interleaved ? 2 * i + 1 : i + half;
                    double ci = c[pos * half + i];
                    double si = direction * s[pos * half + i];
                    double xa = a[base + o + ia];
                    double xb = a[base + o + ib];
                    y[o + ia] = xa * ci - xb * si;
                    y[o + ib] = xb * ci + xa * si;
                }
            }
        }
        return out.to(x.dtype());
    }
}
