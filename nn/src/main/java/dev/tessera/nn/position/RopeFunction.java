package dev.tessera.nn.position;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.nn.internal.DenseRows;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.Simd;
import dev.tessera.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

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

    private static final VectorSpecies<Float> S = Simd.F32;
    /** Lane i takes lane i ^ 1: each (x_a, x_b) pair as (x_b, x_a). */
    private static final VectorShuffle<Float> SWAP_PAIRS = VectorShuffle.fromOp(S, i -> i ^ 1);
    /** Lane i takes lane i / 2: the first half of a table vector, each value twice, one per member of a pair. */
    private static final VectorShuffle<Float> EACH_TWICE = VectorShuffle.fromOp(S, i -> i / 2);
    /** −1 on the first member of each pair, +1 on the second. */
    private static final FloatVector PAIR_SIGNS = FloatVector.fromArray(S, pairSigns(S.length()), 0);

    private static float[] pairSigns(int lanes) {
        float[] signs = new float[lanes];
        for (int i = 0; i < lanes; i++) {
            signs[i] = i % 2 == 0 ? -1f : 1f;
        }
        return signs;
    }

    /**
     * The leading pairs of one interleaved F32 row on the vector unit; returns how many pairs it did (the
     * caller's scalar loop does the rest). A vector holds L/2 pairs: y = x·cos + swap(x)·(∓sin), which is,
     * lane for lane, the same products and sum as the scalar loop (x_a·c + x_b·(−s) is x_a·c − x_b·s
     * exactly), so the same bits.
     */
    private static int rotateInterleaved(float[] a, int io, float[] y, int o, float[] ca, int co, float[] sa, int so, int half,
            int direction) {
        int lanes = S.length();
        int pairs = lanes / 2;
        FloatVector signs = direction > 0 ? PAIR_SIGNS : PAIR_SIGNS.neg();
        // one bound, so the loop is a counted one; a table vector is read whole (lanes values from i),
        // so it also stops while that still lies inside the table
        int end = Math.min(half - pairs, Math.min(ca.length - lanes - co, sa.length - lanes - so));
        int i = 0;
        for (; i <= end; i += pairs) {
            FloatVector x = FloatVector.fromArray(S, a, io + 2 * i);
            FloatVector cos = FloatVector.fromArray(S, ca, co + i).rearrange(EACH_TWICE);
            FloatVector sin = FloatVector.fromArray(S, sa, so + i).rearrange(EACH_TWICE).mul(signs);
            x.mul(cos).add(x.rearrange(SWAP_PAIRS).mul(sin)).intoArray(y, o + 2 * i);
        }
        return i;
    }

    /** As {@link #rotateInterleaved} for the half-split convention: x_a and x_b are the row's two contiguous halves. */
    private static int rotateHalves(float[] a, int io, float[] y, int o, float[] ca, int co, float[] sa, int so, int half,
            int direction) {
        int lanes = S.length();
        int i = 0;
        for (; i + lanes <= half; i += lanes) {
            FloatVector xa = FloatVector.fromArray(S, a, io + i);
            FloatVector xb = FloatVector.fromArray(S, a, io + half + i);
            FloatVector cos = FloatVector.fromArray(S, ca, co + i);
            FloatVector sin = FloatVector.fromArray(S, sa, so + i);
            if (direction < 0) {
                sin = sin.neg();
            }
            xa.mul(cos).sub(xb.mul(sin)).intoArray(y, o + i);
            xb.mul(cos).add(xa.mul(sin)).intoArray(y, o + half + i);
        }
        return i;
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
            boolean timeMajor = is[2] > is[1];
            int inOffset = in.offset();
            int outOffset = out.offset();
            int cOffset = c.offset();
            int sOffset = s.offset();
            dev.tessera.tensor.Parallel.forEachRange(rows, grain, (chunk, from, to) -> {
                for (int r = from; r < to; r++) {
                    // rows in the order they lie in memory: heads split from a (B, T, H, D) projection
                    // are walked (b, t, h), so the reads and writes run through memory front to back
                    int pos;
                    int head;
                    if (timeMajor) {
                        pos = r / h % t;
                        head = r % h;
                    } else {
                        pos = r % t;
                        head = r / t % h;
                    }
                    int batch = r / (h * t);
                    int io = inOffset + batch * is[0] + head * is[1] + pos * is[2];
                    int o = outOffset + batch * os[0] + head * os[1] + pos * os[2];
                    int co = cOffset + pos * half;
                    int so = sOffset + pos * half;
                    int done = !Simd.ENABLED ? 0 : interleaved ? rotateInterleaved(a, io, y, o, ca, co, sa, so, half, direction)
                            : rotateHalves(a, io, y, o, ca, co, sa, so, half, direction);
                    for (int i = done; i < half; i++) {
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
