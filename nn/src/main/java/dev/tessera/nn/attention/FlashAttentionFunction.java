package dev.tessera.nn.attention;

import dev.tessera.autograd.CustomFunction;
import dev.tessera.tensor.DType;
import dev.tessera.tensor.FlashAttention;
import dev.tessera.tensor.Storage;
import dev.tessera.tensor.Tensor;

/**
 * The autograd op over {@link FlashAttention}, the F32 Vector-API kernel (B4's fast path and
 * training's causal attention): inputs q (B, H, T, D), k (B, H, S, D), v (B, H, S, Dv) in F32;
 * saves q, k, v, the output and the rows' logsumexps (B·H·T floats), never the probabilities, and
 * recomputes them in backward. Masks: causal with any query offset, and document ids.
 */
final class FlashAttentionFunction extends CustomFunction {
    private final double alpha;
    private final AttentionMask mask;

    /** @param alpha the score scale; inputs must be F32 (callers route F64 to the double kernels) */
    FlashAttentionFunction(double alpha, AttentionMask mask) {
        this.alpha = alpha;
        this.mask = mask;
    }

    @Override
    protected String name() {
        return "flash_attention";
    }

    /** The kernel's problem for these shapes and this function's mask. */
    FlashAttention.Problem problem(int[] qShape, int keys, int valueDim) {
        int b = qShape[0];
        long[][] docs = null;
        if (mask.documentIds() != null) {
            docs = new long[b][];
            for (int i = 0; i < b; i++) {
                docs[i] = KernelSupport.documentRow(mask, i);
            }
        }
        return new FlashAttention.Problem(b, qShape[1], qShape[2], keys, qShape[3], valueDim, (float) alpha, mask.causal(),
                mask.causal() ? mask.queryOffset() : 0, docs);
    }

    @Override
    protected Tensor forward(Context ctx, Tensor... in) {
        Tensor q = in[0];
        Tensor k = in[1];
        Tensor v = in[2];
        if (q.dtype() != DType.F32 || k.dtype() != DType.F32 || v.dtype() != DType.F32) {
            throw new IllegalArgumentException("flash_attention: needs F32 q, k, v, got " + q.dtype() + ", " + k.dtype() + ", " + v.dtype());
        }
        FlashAttention.Problem p = problem(q.shape(), k.size(2), v.size(3));
        float[] out = new float[p.batch() * p.heads() * p.queries() * p.valueDim()];
        float[] lse = new float[p.batch() * p.heads() * p.queries()];
        FlashAttention.forward(p, floats(q), floats(k), floats(v), out, lse);
        Tensor result = wrap(out, p.batch(), p.heads(), p.queries(), p.valueDim()); // (B, H, T, Dv)
        ctx.save(q, k, v, result, wrap(lse, p.batch(), p.heads(), p.queries()));
        return result;
    }

    @Override
    protected Tensor[] backward(Context ctx, Tensor gradOut) {
        Tensor q = ctx.saved(0);
        Tensor k = ctx.saved(1);
        Tensor v = ctx.saved(2);
        FlashAttention.Problem p = problem(q.shape(), k.size(2), v.size(3));
        float[] dq = new float[q.numel()];
        float[] dk = new float[k.numel()];
        float[] dv = new float[v.numel()];
        FlashAttention.backward(p, floats(q), floats(k), floats(v), floats(ctx.saved(3)), floats(ctx.saved(4)), floats(gradOut), dq, dk,
                dv);
        return new Tensor[] {wrap(dq, q.shape()), wrap(dk, k.shape()), wrap(dv, v.shape())};
    }

    /** The F32 elements in row-major order: the backing array itself when it is exactly that, else a copy. */
    private static float[] floats(Tensor t) {
        float[] a = t.storage().floats();
        if (t.dtype() == DType.F32 && a != null && t.offset() == 0 && a.length == t.numel() && t.isContiguous()) {
            return a;
        }
        return t.toFloatArray();
    }

    private static Tensor wrap(float[] data, int... shape) {
        return Tensor.of(Storage.wrap(DType.F32, data), shape);
    }
}
